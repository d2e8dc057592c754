// Starts Swagger UI on /docs. A file, not an inline script: the docs page's policy allows only
// scripts the gateway serves itself.
const root = document.getElementById("swagger-ui");
window.ui = SwaggerUIBundle({
  url: root.dataset.openapiUrl,
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  // No badge from an outside validator: the page must work on a network without the internet.
  validatorUrl: null,
});
