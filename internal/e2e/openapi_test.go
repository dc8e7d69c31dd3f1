package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/httpauth"
	"github.com/gatehouse-go/gatehouse/internal/httpauthtest"
	"github.com/gatehouse-go/gatehouse/store/memstore"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	verrors "github.com/pb33f/libopenapi-validator/errors"
)

// TestMain checks every answer of the scenarios, under the prefix of the
// endpoints, against the OpenAPI document of the server that gave it
// (see checkAnswers).
func TestMain(m *testing.M) {
	httpauthtest.CheckAnswers = checkAnswers
	code := m.Run()
	if testing.Verbose() {
		fmt.Printf("OpenAPI: %d answers checked against the document\n", answersChecked.Load())
	}
	os.Exit(code)
}

// answersChecked counts the answers checked against a document.
var answersChecked atomic.Int64

// checkAnswers returns a RoundTripper that sends requests through next
// and checks each answer to a path under prefix against the OpenAPI
// document that the server at baseURL serves at {prefix}/openapi.json,
// fetched at the first such request, with libopenapi-validator (an
// independent implementation of OpenAPI 3.1 and JSON Schema 2020-12):
//
//   - an operation of the document: the answer's status, content type and
//     body must be among the operation's responses; a success (2xx) also
//     needs a request that the document allows, with its security;
//   - any other method or path: the answer must be 404 or 405 with a
//     problem body, as for a route that is not mounted.
//
// A mismatch fails t.
func checkAnswers(t testing.TB, next http.RoundTripper, baseURL, prefix string) http.RoundTripper {
	return &answerChecker{t: t, next: next, baseURL: baseURL, prefix: prefix}
}

type answerChecker struct {
	t       testing.TB
	next    http.RoundTripper
	baseURL string
	prefix  string

	once sync.Once
	doc  *checkedDoc // nil if the document could not be had
}

func (c *answerChecker) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.HasPrefix(req.URL.Path, c.prefix+"/") {
		return c.next.RoundTrip(req)
	}
	c.once.Do(func() { c.doc = c.fetch() })

	var reqBody []byte
	if req.Body != nil && req.Body != http.NoBody {
		var err error
		if reqBody, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
	}
	sent := req.Clone(req.Context())
	sent.Body = io.NopCloser(bytes.NewReader(reqBody))
	resp, err := c.next.RoundTrip(sent)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if c.doc != nil {
		c.check(req, reqBody, resp, body)
		answersChecked.Add(1)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// check checks one answer; see checkAnswers.
func (c *answerChecker) check(req *http.Request, reqBody []byte, resp *http.Response, body []byte) {
	what := fmt.Sprintf("%s %s answered %d %s", req.Method, req.URL.Path, resp.StatusCode, abbreviate(body))
	if !c.doc.ops[req.Method+" "+req.URL.Path] {
		ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if (resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed) || ct != "application/problem+json" {
			c.t.Errorf("OpenAPI: %s: not an operation of the document, so want 404 or 405 with a problem", what)
		}
		return
	}
	vreq := req.Clone(req.Context())
	vreq.Body = io.NopCloser(bytes.NewReader(reqBody))
	vresp := *resp
	vresp.Body = io.NopCloser(bytes.NewReader(body))
	if ok, errs := c.doc.v.ValidateHttpResponse(vreq, &vresp); !ok {
		c.t.Errorf("OpenAPI: %s: the answer does not match the document:%s", what, describe(errs))
	}
	if resp.StatusCode < 300 {
		vreq.Body = io.NopCloser(bytes.NewReader(reqBody))
		if ok, errs := c.doc.v.ValidateHttpRequest(vreq); !ok {
			c.t.Errorf("OpenAPI: %s to %s: a success for a request the document does not allow:%s", what, abbreviate(reqBody), describe(errs))
		}
	}
}

// checkedDoc is a document and its validator.
type checkedDoc struct {
	v   validator.Validator
	ops map[string]bool // "METHOD path" of every operation
}

// checkedDocs holds the validators of the documents seen, by their
// SHA-256: servers of one configuration share one.
var checkedDocs sync.Map // [32]byte → *sync.OnceValue of *checkedDoc

// fetch gets the server's document and its validator, or fails t and
// returns nil.
func (c *answerChecker) fetch() *checkedDoc {
	resp, err := (&http.Client{Transport: c.next}).Get(c.baseURL + c.prefix + "/openapi.json")
	if err != nil {
		c.t.Errorf("OpenAPI: fetching the document: %v", err)
		return nil
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		c.t.Errorf("OpenAPI: fetching the document: %d, %v", resp.StatusCode, err)
		return nil
	}
	build, _ := checkedDocs.LoadOrStore(sha256.Sum256(raw), sync.OnceValues(func() (*checkedDoc, error) {
		return newCheckedDoc(raw)
	}))
	d, err := build.(func() (*checkedDoc, error))()
	if err != nil {
		c.t.Errorf("OpenAPI: %v", err)
		return nil
	}
	return d
}

func newCheckedDoc(raw []byte) (*checkedDoc, error) {
	var paths struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(raw, &paths); err != nil {
		return nil, fmt.Errorf("decoding the document: %w", err)
	}
	d := &checkedDoc{ops: map[string]bool{}}
	for p, methods := range paths.Paths {
		for m := range methods {
			d.ops[strings.ToUpper(m)+" "+p] = true
		}
	}
	doc, err := libopenapi.NewDocument(raw)
	if err != nil {
		return nil, fmt.Errorf("reading the document: %w", err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		return nil, fmt.Errorf("building the validator: %v", errs)
	}
	if ok, errs := v.ValidateDocument(); !ok {
		return nil, fmt.Errorf("the document is not valid OpenAPI:%s", describe(errs))
	}
	d.v = v
	return d, nil
}

// describe lists validation errors, one a line.
func describe(errs []*verrors.ValidationError) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "\n\t%s: %s", e.Message, e.Reason)
		for _, f := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "\n\t\t%s at %s", f.Reason, f.FieldPath)
		}
	}
	return b.String()
}

// abbreviate returns b, shortened for a message.
func abbreviate(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// recorder is a testing.TB that records the failures reported to it.
type recorder struct {
	testing.TB
	mu       sync.Mutex
	failures []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

// TestCheckAnswers checks the checker: the answers of a real Handler
// pass; a body the document does not describe, an undocumented status
// and an answer from an undocumented route fail.
func TestCheckAnswers(t *testing.T) {
	svc, err := auth.New(memstore.New(), auth.Config{Secret: httpauthtest.Secret, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	h, err := httpauth.New(svc, httpauth.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	// The server answers as h, but for a few requests that the test
	// marks with X-Wrong.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("X-Wrong") {
		case "body":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"userId":"u","email":"e","userName":"n","emailVerified":"yes","mfa":false,"createdAt":"2024-01-01T00:00:00Z"}`)
		case "status":
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusTeapot)
			io.WriteString(w, `{"type":"about:blank","title":"I'm a teapot","status":418}`)
		case "route":
			io.WriteString(w, "hello")
		default:
			h.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	rec := &recorder{TB: t}
	c := &http.Client{Transport: checkAnswers(rec, http.DefaultTransport, srv.URL, "/api/user")}
	send := func(method, path, body string, header ...string) int {
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		rec.mu.Lock()
		defer rec.mu.Unlock()
		n := len(rec.failures)
		rec.failures = nil
		return n
	}
	signup := httpauthtest.SignupBody("Ada", "ada@example.com", httpauthtest.Password)
	for _, tc := range []struct {
		name, method, path, body string
		header                   []string
		failures                 int
	}{
		{"sign-up", "POST", httpauthtest.SignupPath, signup, nil, 0},
		{"taken", "POST", httpauthtest.SignupPath, signup, nil, 0},
		{"bad JSON", "POST", httpauthtest.LoginPath, "{", nil, 0},
		{"me without a token", "GET", httpauthtest.MePath, "", nil, 0},
		{"wrong method", "GET", httpauthtest.LoginPath, "", nil, 0},
		{"no such route", "POST", "/api/user/nope", "{}", nil, 0},
		{"outside the prefix", "GET", "/elsewhere", "", []string{"X-Wrong", "route"}, 0},
		{"wrong body", "GET", httpauthtest.MePath, "", []string{"X-Wrong", "body", "Authorization", "Bearer x"}, 1},
		{"undocumented status", "POST", httpauthtest.LoginPath, "{}", []string{"X-Wrong", "status"}, 1},
		{"undocumented route", "GET", "/api/user/hello", "", []string{"X-Wrong", "route"}, 1},
	} {
		if got := send(tc.method, tc.path, tc.body, tc.header...); got != tc.failures {
			t.Errorf("%s: %d failures reported, want %d", tc.name, got, tc.failures)
		}
	}
}
