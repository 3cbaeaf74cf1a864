/* Starts Swagger UI on the API documentation page (core/api_docs.html): settings from
   a JSON block, the session's CSRF token on "Try it out" requests. A file, not an
   inline script (Content-Security-Policy). */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("swagger-settings").textContent);
  var token = document.body.getAttribute("data-csrf-token");
  config.dom_id = "#swagger-ui";
  config.presets = [window.SwaggerUIBundle.presets.apis];
  config.requestInterceptor = function (req) {
    if (token) req.headers["X-CSRFToken"] = token;
    return req;
  };
  window.SwaggerUIBundle(config);
})();
