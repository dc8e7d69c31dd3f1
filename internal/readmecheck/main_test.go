package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkMarkdown runs check on a Markdown file holding md.
func checkMarkdown(t *testing.T, md string) error {
	t.Helper()
	path := filepath.Join(t.TempDir(), "README.md")
	if err := os.WriteFile(path, []byte(md), 0o644); err != nil {
		t.Fatal(err)
	}
	return check(path, io.Discard)
}

// TestSnippetsThatCompile checks the conventions of the package
// documentation: fragments mixing declarations and statements, names of
// the environment and ones that shadow it, unused variables, code left
// out as "...", a pasted interface of package auth, and a whole file.
func TestSnippetsThatCompile(t *testing.T) {
	md := "# Title\n\n```go\n" + `store := sqlitestore.New(db) // shadows the environment's store
if err := store.Migrate(ctx); err != nil { ... }
svc, err := auth.New(store, auth.Config{Secret: secret})
h, err := httpauth.New(svc, httpauth.Config{})
mux.Handle("GET /api/orders", h.Middleware(http.HandlerFunc(orders)))
args := []any{"variadic"}
n, err := fmt.Println(args...) // and in a comment: f(more...)

func orders(w http.ResponseWriter, r *http.Request) {
	claims, ok := httpauth.ClaimsFromContext(r.Context())
	...
}
` + "```\n\nText.\n\n```go\n" + `type UserStore interface {
	CreateUser(ctx context.Context, u User) error
	UserByEmail(ctx context.Context, email string) (User, error)
	UserByID(ctx context.Context, id string) (User, error)
}
` + "```\n\n```go\n" + `package main

import "fmt"

func main() { fmt.Println("a whole file") }
` + "```\n"
	if err := checkMarkdown(t, md); err != nil {
		t.Errorf("check: %v", err)
	}
}

// TestSnippetsThatDoNotCompile checks that each kind of mistake fails the
// check, reported at its Markdown line.
func TestSnippetsThatDoNotCompile(t *testing.T) {
	md := "```go\n" + // line 1
		"mux.Handle(\"GET /\", h.Middleware(orders))\n" + // line 2: a func where a Handler is needed
		"```\n\n```go\n" + // lines 3-5
		"svc.Login(ctx, \"a@example.com\")\n" + // line 6: too few arguments
		"unknownThing()\n" + // line 7: undefined
		"```\n\n```go\n" + // lines 8-10
		"type UserStore interface {\n" + // line 11: not auth.UserStore's method set
		"\tCreateUser(ctx context.Context, u User) error\n" +
		"}\n" +
		"```\n"
	err := checkMarkdown(t, md)
	if err == nil {
		t.Fatal("check passed")
	}
	for _, want := range []string{
		"README.md:2: cannot use orders",
		"README.md:6: not enough arguments",
		"README.md:7: undefined: unknownThing",
		"(the block's wrapping): cannot use UserStore(nil)",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not contain %q:\n%v", want, err)
		}
	}
}

func TestSyntaxError(t *testing.T) {
	err := checkMarkdown(t, "Text\n\n```go\nx := 1\ny := )\n```\n")
	if err == nil || !strings.Contains(err.Error(), "README.md:5: ") {
		t.Errorf("check: %v, want a syntax error at line 5", err)
	}
}

func TestElide(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"if err != nil { ... }", `if err != nil { panic("...") }`},
		{"f()\n...\n}", "f()\n" + `panic("...")` + "\n}"},
		{"\t...", "\t" + `panic("...")`},
		{"f(xs...)", "f(xs...)"},
		{"a := [...]int{1}", "a := [...]int{1}"},
		{"func f(xs ...int) {}", "func f(xs ...int) {}"},
		{"g(a,\n\tb...,\n)", "g(a,\n\tb...,\n)"},
		{"// see ... here", "// see ... here"},
	} {
		if got := elide(tc.in); got != tc.want {
			t.Errorf("elide(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
