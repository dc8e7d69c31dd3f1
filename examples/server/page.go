package main

import (
	"embed"
	"net/http"
)

// pageFiles holds the demo page: one HTML document, its script and its
// style, served as they are (no build step, nothing from another origin).
//
//go:embed page/index.html page/app.js page/app.css
var pageFiles embed.FS

// pageSecurity is the Content-Security-Policy of the demo page: its own
// script and style only, images from itself or data: URLs (the QR code),
// requests to its own origin, no form submission without the script (a
// form would otherwise send the password in the address), no framing.
const pageSecurity = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"

// mountPage registers the demo page on mux: GET / and the pages of the
// mailed links (/verify-email, /reset-password, /confirm-email), which
// the same document handles, and its script and style under /assets/.
// The handlers log nothing: a link's token in the address stays out of
// the log.
func mountPage(mux *http.ServeMux) {
	index := pageFile("page/index.html", "text/html; charset=utf-8")
	for _, path := range []string{"/{$}", "/verify-email", "/reset-password", "/confirm-email"} {
		mux.Handle("GET "+path, index)
	}
	mux.Handle("GET /assets/app.js", pageFile("page/app.js", "text/javascript; charset=utf-8"))
	mux.Handle("GET /assets/app.css", pageFile("page/app.css", "text/css; charset=utf-8"))
}

// pageFile returns a handler that answers with the embedded file name.
func pageFile(name, contentType string) http.Handler {
	body, err := pageFiles.ReadFile(name)
	if err != nil { // the embed directive above lists every name
		panic(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", contentType)
		h.Set("Content-Security-Policy", pageSecurity)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		// The addresses of the link pages carry one-time tokens.
		h.Set("Cache-Control", "no-store")
		w.Write(body) //nolint:errcheck // the client is gone; nothing to do
	})
}
