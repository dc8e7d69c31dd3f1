package httpauth

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// problem is an RFC 9457 problem details object. Field is an extension
// member naming the request field at fault, for 400 responses.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	Field  string `json:"field,omitempty"`
}

// writeProblem writes an application/problem+json response. detail and
// field must never carry driver text, secrets or anything the client did
// not send.
func writeProblem(w http.ResponseWriter, status int, detail, field string) {
	writeJSON(w, status, "application/problem+json", problem{
		Type:   "about:blank",
		Title:  http.StatusText(status),
		Status: status,
		Detail: detail,
		Field:  field,
	})
}

// writeJSON writes v as the whole response. The headers it sets are the
// ones every response of this package carries: nothing here may be cached
// or sniffed.
func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	body, err := json.Marshal(v)
	if err != nil { // only our own fixed types are written
		panic("httpauth: encoding response: " + err.Error())
	}
	body = append(body, '\n')
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(body) //nolint:errcheck // the client is gone; nothing to do
}

// retryAfter returns d as the value of a Retry-After header: whole
// seconds, rounded up, at least 1.
func retryAfter(d time.Duration) string {
	s := (d + time.Second - 1) / time.Second
	return strconv.FormatInt(max(int64(s), 1), 10)
}
