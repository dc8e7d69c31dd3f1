package httpauth

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// The problem types of the answers that a client may want to tell apart
// from others of the same status; every other problem has the type
// "about:blank", which says that the status says it all. Each URI leads to
// its own documentation.
const (
	// ProblemInvalidLink is the type of the 400 answer to a one-time token
	// (of a verification, reset or email-change link) that is unknown,
	// spent, expired or no longer matches its account: one body for all.
	ProblemInvalidLink = "https://pkg.go.dev/github.com/gatehouse-go/gatehouse/httpauth#ProblemInvalidLink"

	// ProblemEmailNotVerified is the type of the 403 answer to a login,
	// after a correct password, of an account whose email is not verified
	// while auth.Config.RequireVerifiedEmail is set, and of
	// [RequireVerifiedEmail] to a token without "email_verified": true.
	ProblemEmailNotVerified = "https://pkg.go.dev/github.com/gatehouse-go/gatehouse/httpauth#ProblemEmailNotVerified"

	// ProblemAccountDisabled is the type of the 403 answer to a login,
	// after a correct password, or a refresh, of an account that an
	// operator disabled (auth.Service.DisableUser).
	ProblemAccountDisabled = "https://pkg.go.dev/github.com/gatehouse-go/gatehouse/httpauth#ProblemAccountDisabled"

	// ProblemCrossOrigin is the type of the 403 answer, in cookie mode
	// (Config.Cookies), to a state-changing request that a browser sent
	// from a page of another origin than the server's own and
	// Config.TrustedOrigins: to a route of the Handler, or to a route
	// where the access-token cookie authenticates the request.
	ProblemCrossOrigin = "https://pkg.go.dev/github.com/gatehouse-go/gatehouse/httpauth#ProblemCrossOrigin"
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
	writeTypedProblem(w, status, "about:blank", detail, field)
}

// writeTypedProblem is writeProblem with a problem type other than
// about:blank.
func writeTypedProblem(w http.ResponseWriter, status int, typ, detail, field string) {
	writeJSON(w, status, "application/problem+json", problem{
		Type:   typ,
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
