"""The demo's catalog: what generated alerts are made of, per agency and language.

Titles in each partner's language, names in each country's script and conventions; data only,
read by cli/demo/alerts.py.
"""

from __future__ import annotations

from hotline.settings import DEMO_AGENCIES

COUNTRY = {a.id: a.country for a in DEMO_AGENCIES}
LANGUAGE = {a.id: (a.languages[0] if a.languages else "en") for a in DEMO_AGENCIES}
REF_PREFIX = {"vn-hanoi": "HN", "cn-beijing": "BJ", "ru-moscow": "MSK"}
CURRENCY = {"VN": "VND", "CN": "CNY", "RU": "RUB"}
LOSS_UNIT = {"VND": 1_000_000, "CNY": 1_000, "RUB": 10_000}  # so losses read plausibly

SCAM_TITLES: dict[str, dict[str, str]] = {
    "vi": {
        "impersonation": "Số điện thoại giả danh cơ quan công an",
        "bank_security_impersonation": "Số điện thoại giả danh nhân viên ngân hàng",
        "investment": "Số điện thoại lừa đảo đầu tư",
        "loan_app": "Số điện thoại của ứng dụng vay tiền lừa đảo",
        "job": "Số điện thoại tuyển cộng tác viên 'việc nhẹ lương cao'",
        "delivery": "Số điện thoại giả danh nhân viên giao hàng",
    },
    "zh": {
        "impersonation": "诈骗电话（冒充公检法）",
        "bank_security_impersonation": "诈骗电话（冒充银行客服）",
        "investment": "投资理财诈骗电话",
        "loan_app": "网络贷款诈骗电话",
        "job": "刷单返利诈骗电话",
        "delivery": "诈骗电话（冒充快递客服）",
    },
    "ru": {
        "impersonation": "Мошеннический номер: звонки от имени полиции",
        "bank_security_impersonation": "Мошеннический номер: «служба безопасности банка»",
        "investment": "Мошеннический номер: «инвестиции с гарантированным доходом»",
        "loan_app": "Мошеннический номер: «займ без проверок»",
        "job": "Мошеннический номер: «лёгкая подработка»",
        "delivery": "Мошеннический номер: «курьерская служба»",
    },
}
SCAM_TYPES = tuple(SCAM_TITLES["vi"])
KIND_CODE = {"scam_number": "SN", "fraud_pattern": "FP", "wanted_person": "WP"}

WANTED_TITLE = {"vi": "Truy nã: {}", "zh": "通缉：{}", "ru": "Розыск: {}"}
FRAUD_TITLES: dict[str, dict[str, str]] = {
    "vi": {
        "investment": "Thủ đoạn lừa đảo đầu tư qua ứng dụng giả mạo",
        "impersonation": "Thủ đoạn giả danh cơ quan chức năng",
        "loan_app": "Ứng dụng vay tiền lừa đảo",
        "romance": "Lừa đảo tình cảm qua mạng",
        "job": "Lừa đảo tuyển cộng tác viên online",
        "phishing": "Trang web giả mạo đánh cắp thông tin",
    },
    "zh": {
        "investment": "虚假投资理财App诈骗",
        "impersonation": "冒充公检法诈骗新手法",
        "loan_app": "网络贷款App诈骗",
        "romance": "“杀猪盘”交友诈骗",
        "job": "刷单返利诈骗",
        "phishing": "钓鱼网站诈骗",
    },
    "ru": {
        "investment": "Схема: фальшивое инвестиционное приложение",
        "impersonation": "Схема: звонки от имени полиции",
        "loan_app": "Схема: мошеннические микрозаймы",
        "romance": "Схема: знакомства и «инвестиции»",
        "job": "Схема: «лёгкая подработка»",
        "phishing": "Схема: фишинговый сайт",
    },
}
OFFENCES = (
    "fraud", "money_laundering", "drug_trafficking", "human_trafficking",
    "illegal_border_crossing", "organised_crime",
)  # fmt: skip
FRAUD_SCHEMES = tuple(FRAUD_TITLES["vi"])
APP_WORDS = ("Gold", "Trade", "Loan", "Star", "Link", "Pay", "Task", "Love", "Fast", "Smart")

VN_FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô")
VN_MALE = (("Văn", "Đức", "Quang", "Minh"), ("Hải", "Long", "Khánh", "Dũng", "Sơn", "Thắng"))
VN_FEMALE = (("Thị", "Ngọc", "Thu"), ("Lan", "Hương", "Trang", "Yến", "Mai"))
CN_FAMILY = ("王", "李", "张", "刘", "陈", "杨", "黄", "吴", "徐", "郭")
CN_GIVEN = ("建华", "晓东", "志明", "海涛", "丽娟", "雪梅", "俊杰", "国强", "美玲", "文斌")
RU_FAMILY = ("Иванов", "Соколов", "Попов", "Лебедев", "Козлов", "Новиков", "Морозов", "Зайцев")
RU_MALE = ("Андрей", "Сергей", "Дмитрий", "Алексей", "Максим", "Игорь", "Юрий")
RU_FEMALE = ("Анна", "Ольга", "Наталья", "Елена", "Ирина", "Юлия")
# Patronymics agree in gender with the person: (his, hers).
RU_PATRONYMIC = (
    ("Александрович", "Александровна"), ("Викторович", "Викторовна"),
    ("Николаевич", "Николаевна"), ("Петрович", "Петровна"),
    ("Юрьевич", "Юрьевна"), ("Михайлович", "Михайловна"),
)  # fmt: skip
