package httpauth_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/httpauth"
	"github.com/gatehouse-go/gatehouse/store/memstore"
)

// Mount the endpoints on a ServeMux, protect a route with the middleware,
// then sign up and call the protected route.
func ExampleHandler_Mount() {
	svc, err := auth.New(memstore.New(), auth.Config{Secret: []byte("an example secret of 32+ bytes...")})
	if err != nil {
		panic(err)
	}
	h, err := httpauth.New(svc, httpauth.Config{}) // endpoints under /api/user
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	h.Mount(mux)
	mux.Handle("GET /hello", h.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := httpauth.ClaimsFromContext(r.Context())
		fmt.Fprintf(w, "hello, %s", claims.UserName)
	})))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	resp, err := http.Post(srv.URL+"/api/user/signup", "application/json",
		strings.NewReader(`{"name":"Ada","email":"ada@example.com","password":"correct horse battery staple"}`))
	if err != nil {
		panic(err)
	}
	var session struct{ UserID, Email, UserName, Token string }
	json.NewDecoder(resp.Body).Decode(&session)
	resp.Body.Close()
	fmt.Println("signup:", resp.Status, session.Email)

	req, _ := http.NewRequest("GET", srv.URL+"/hello", nil)
	req.Header.Set("Authorization", "Bearer "+session.Token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	greeting, _ := io.ReadAll(resp.Body)
	fmt.Println("hello:", resp.Status, string(greeting))
	// Output:
	// signup: 200 OK ada@example.com
	// hello: 200 OK hello, Ada
}

// Protect routes of any router: Middleware has the
// func(http.Handler) http.Handler shape, and ClaimsFromContext reads the
// caller.
func ExampleHandler_Middleware() {
	svc, _ := auth.New(memstore.New(), auth.Config{Secret: []byte("an example secret of 32+ bytes...")})
	h, _ := httpauth.New(svc, httpauth.Config{})
	protected := h.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if claims, ok := httpauth.ClaimsFromContext(r.Context()); ok {
			fmt.Fprintln(w, "caller:", claims.UserID)
		}
	}))

	rec := httptest.NewRecorder()
	protected.ServeHTTP(rec, httptest.NewRequest("GET", "/orders", nil))
	fmt.Println(rec.Code, rec.Header().Get("WWW-Authenticate"))
	// Output:
	// 401 Bearer realm="api"
}

// Serve a route only to callers whose email is verified: a token issued
// before the verification gets 403 with the problem type
// ProblemEmailNotVerified, which a client can tell apart from other 403s.
func ExampleRequireVerifiedEmail() {
	svc, _ := auth.New(memstore.New(), auth.Config{Secret: []byte("an example secret of 32+ bytes...")})
	h, _ := httpauth.New(svc, httpauth.Config{})
	mux := http.NewServeMux()
	h.Mount(mux)
	mux.Handle("POST /orders", h.Middleware(httpauth.RequireVerifiedEmail(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
	}))))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	resp, _ := http.Post(srv.URL+"/api/user/signup", "application/json",
		strings.NewReader(`{"name":"Ada","email":"ada@example.com","password":"correct horse battery staple"}`))
	var session struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&session)
	resp.Body.Close()

	req, _ := http.NewRequest("POST", srv.URL+"/orders", nil)
	req.Header.Set("Authorization", "Bearer "+session.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var problem struct{ Type string }
	json.NewDecoder(resp.Body).Decode(&problem)
	fmt.Println(resp.StatusCode, problem.Type == httpauth.ProblemEmailNotVerified)
	// Output:
	// 403 true
}

// Cookie mode for a page in a browser: sign-up sets the access token in
// an HttpOnly cookie, which the middleware reads when there is no
// Authorization header; a route open to anyone uses OptionalMiddleware;
// a state-changing request that a page of another site sends is refused.
func ExampleHandler_OptionalMiddleware() {
	svc, _ := auth.New(memstore.New(), auth.Config{Secret: []byte("an example secret of 32+ bytes...")})
	h, _ := httpauth.New(svc, httpauth.Config{Cookies: true})
	mux := http.NewServeMux()
	h.Mount(mux)
	mux.Handle("/", h.OptionalMiddleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if claims, ok := httpauth.ClaimsFromContext(r.Context()); ok {
			fmt.Fprintf(w, "hello, %s", claims.UserName)
			return
		}
		fmt.Fprint(w, "hello, stranger")
	})))
	srv := httptest.NewTLSServer(mux) // https: __Host- and Secure cookies
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	browser := srv.Client()
	browser.Jar = jar
	get := func() string {
		resp, err := browser.Get(srv.URL + "/")
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}

	fmt.Println(get())
	resp, err := browser.Post(srv.URL+"/api/user/signup", "application/json",
		strings.NewReader(`{"name":"Ada","email":"ada@example.com","password":"correct horse battery staple"}`))
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == httpauth.AccessCookie {
			fmt.Println(c.Name, "HttpOnly:", c.HttpOnly, "Secure:", c.Secure, "Path:", c.Path)
		}
	}
	fmt.Println(get())

	req, _ := http.NewRequest("POST", srv.URL+"/", nil)
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err = browser.Do(req)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println("cross-site POST:", resp.StatusCode)
	// Output:
	// hello, stranger
	// __Host-gatehouse_access HttpOnly: true Secure: true Path: /
	// hello, Ada
	// cross-site POST: 403
}
