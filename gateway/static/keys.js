// The console's keyboard: j/k or arrows move, Enter opens, a acknowledges, / searches,
// m mutes, Escape leaves the search or closes the detail.

const $ = (id) => document.getElementById(id);

/** The keydown handler; `signedIn()`: whether the console is shown for a key. */
export function keyHandler({ lists, detail, attention, acknowledge, signedIn }) {
  const backToList = () => lists.activeList().focus({ preventScroll: true });
  return (e) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    const target = e.target;
    const typing =
      target instanceof HTMLInputElement ||
      target instanceof HTMLTextAreaElement ||
      target instanceof HTMLSelectElement ||
      target?.isContentEditable;
    if (e.key === "Escape") {
      if (target === $("search")) {
        $("search").blur();
        backToList();
      } else if (detail.open) {
        detail.close();
        backToList();
      }
      return;
    }
    if (typing || !signedIn() || $("console-view").hidden) return;
    const onButton = target instanceof HTMLButtonElement || target instanceof HTMLAnchorElement;
    const tab = lists.activeTab;
    switch (e.key) {
      case "ArrowDown":
      case "j":
        e.preventDefault();
        lists.move(1);
        break;
      case "ArrowUp":
      case "k":
        e.preventDefault();
        lists.move(-1);
        break;
      case "Enter": {
        if (onButton) return; // let buttons do their own thing
        const row = lists.selectedRow(tab);
        if (row) {
          e.preventDefault();
          lists.select(tab, row, { open: true });
        }
        break;
      }
      case "a":
        if (tab === "incoming") {
          e.preventDefault();
          acknowledge(lists.selectedRow("incoming"));
        }
        break;
      case "/":
        e.preventDefault();
        $("search").focus();
        $("search").select();
        break;
      case "m":
        e.preventDefault();
        attention.setMuted(!attention.muted);
        break;
      default:
    }
  };
}
