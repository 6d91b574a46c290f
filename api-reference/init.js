// Starts Swagger UI (https://swagger.io/docs/open-source-tools/swagger-ui/usage/configuration/) on this gateway's
// OpenAPI document. A file of its own: the page's Content-Security-Policy allows no inline script.
/* global SwaggerUIBundle */
window.ui = SwaggerUIBundle({
  url: "/admin/api/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  // No badge fetched from validator.swagger.io: the page loads nothing from another origin.
  validatorUrl: null,
  // The token typed into "Authorize" lives in this page only, never in localStorage.
  persistAuthorization: false,
  displayRequestDuration: true,
  defaultModelsExpandDepth: 0,
  docExpansion: "list",
});
