// Command readmecheck compiles every Go snippet of a Markdown file (the
// README by default) against the module it belongs to, and fails, naming
// the Markdown line, if one does not compile.
//
//	go run ./internal/readmecheck [README.md]
//
// Each ```go block becomes a package of its own in a temporary module
// whose go.mod replaces this module with the working tree, so snippets
// compile against the code as it is.
//
// # Snippets
//
// A block whose first line starts with "package" is a whole file and is
// compiled as it is. Any other block is a fragment, read as code of the
// reader's program:
//
//   - Lines at the left margin that start with func, type, var or const
//     are declarations at package level (up to the "}" or ")" at the left
//     margin that closes them); the other lines are statements, compiled
//     in the body of one function.
//   - A "..." where a statement could stand (a line of its own, or
//     "{ ... }") is code left out.
//   - Packages are named as usual (auth, httpauth, http, context...) and
//     need no imports: the checker adds the imports of [packages] that a
//     fragment uses.
//   - The names in [environment] (ctx, db, mux, secret, store, h...)
//     stand for what the reader's program has, unless the fragment
//     declares them itself.
//   - Variables a fragment declares and then leaves unused are fine.
//   - A fragment that pastes a declaration of the module (see [excerpts])
//     must declare it with exactly the module's methods.
//
// A name missing from [packages] or [environment] fails as "undefined":
// add it there, or write the block as a whole file.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// module is the path of the module whose snippets are checked.
const module = "github.com/gatehouse-go/gatehouse"

// packages maps the package names fragments may use to their import paths.
var packages = map[string]string{
	"context": "context",
	"errors":  "errors",
	"fmt":     "fmt",
	"http":    "net/http",
	"json":    "encoding/json",
	"os":      "os",
	"slices":  "slices",
	"slog":    "log/slog",
	"sql":     "database/sql",
	"strings": "strings",
	"testing": "testing",
	"time":    "time",

	"auth":        module + "/auth",
	"password":    module + "/auth/password",
	"throttle":    module + "/auth/throttle",
	"token":       module + "/auth/token",
	"httpauth":    module + "/httpauth",
	"memstore":    module + "/store/memstore",
	"mysqlstore":  module + "/store/mysqlstore",
	"pgstore":     module + "/store/pgstore",
	"sqlitestore": module + "/store/sqlitestore",
	"storetest":   module + "/store/storetest",
	"smtpmail":    module + "/mail/smtpmail",
}

// environment declares, at package level, the names fragments take from
// the reader's program; each declaration uses packages by their names in
// [packages].
var environment = map[string]string{
	"ctx":        "var ctx context.Context",
	"db":         "var db *sql.DB",
	"doc":        "var doc []byte // a JWKS document",
	"h":          "var h *httpauth.Handler",
	"mux":        "var mux *http.ServeMux",
	"newMyStore": "var newMyStore func(*testing.T) auth.UserStore",
	"orders":     "var orders func(http.ResponseWriter, *http.Request)",
	"pemBytes":   "var pemBytes []byte",
	"rolesOf":    "var rolesOf func(ctx context.Context, userID string) []string",
	"secret":     "var secret []byte",
	"store":      "var store auth.UserStore",
	"svc":        "var svc *auth.Service",
	"User":       "type User = auth.User // for the interfaces of package auth pasted in",
}

// excerpts maps the names of interfaces that fragments paste from the
// module to the module's own: a fragment declaring one must declare the
// same method set.
var excerpts = map[string]string{
	"UserStore": "auth.UserStore",
}

func main() {
	path := "README.md"
	if len(os.Args) > 1 {
		path = os.Args[1]
	}
	if err := check(path, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "readmecheck:", err)
		os.Exit(1)
	}
}

// check compiles the Go snippets of the Markdown file path against the
// module at the working directory, writing a line per snippet to out. Its
// error lists every compiler message, at its Markdown line.
func check(path string, out io.Writer) error {
	md, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	blocks := goBlocks(md)
	if len(blocks) == 0 {
		return fmt.Errorf("%s has no ```go blocks", path)
	}
	dir, err := os.MkdirTemp("", "readmecheck")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	files := make(map[string]snippetFile) // by the file's path in dir
	var syntaxErrs []error
	for i, b := range blocks {
		f, err := b.file()
		if err != nil {
			syntaxErrs = append(syntaxErrs, fmt.Errorf("%s:%v", path, err))
			continue
		}
		name := filepath.Join(fmt.Sprintf("snippet%02d", i+1), "snippet.go")
		if err := writeFile(filepath.Join(dir, name), f.src); err != nil {
			return err
		}
		files[name] = f
		fmt.Fprintf(out, "%s:%d: %s\n", path, b.line, f.kind)
	}
	if len(syntaxErrs) > 0 {
		return errors.Join(syntaxErrs...)
	}
	if err := writeModule(dir, root); err != nil {
		return err
	}
	cmd := exec.Command("go", "build", "-mod=mod", "-gcflags=-e", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	output, err := cmd.CombinedOutput()
	if err == nil {
		fmt.Fprintf(out, "%d Go snippets compile\n", len(blocks))
		return nil
	}
	return errors.New(mapErrors(output, path, files))
}

// moduleRoot returns the directory of this module, from the main module
// or, in the workspace of go.work, from its modules.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Path}} {{.Dir}}", module).Output()
	if err != nil {
		return "", fmt.Errorf("finding the module %s (run in its directory): %w", module, err)
	}
	mod, dir, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	if mod != module {
		return "", fmt.Errorf("run in module %s, not %s", module, mod)
	}
	return dir, nil
}

// nestedModules are the modules of their own under root that snippets may
// import: the SQL stores and the SMTP mailer.
var nestedModules = []string{"store/mysqlstore", "store/pgstore", "store/sqlitestore", "mail/smtpmail"}

// writeModule makes dir the root of a module that requires this one and
// the nested modules from root, with their go.sum lines.
func writeModule(dir, root string) error {
	var mod, sum bytes.Buffer
	fmt.Fprintf(&mod, "module readmecheck\n\ngo 1.26.0\n\nrequire %s v0.0.0\n\nreplace %s => %s\n", module, module, strconv.Quote(root))
	b, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		return err
	}
	sum.Write(b)
	for _, m := range nestedModules {
		path := module + "/" + m
		fmt.Fprintf(&mod, "\nrequire %s v0.0.0\n\nreplace %s => %s\n", path, path, strconv.Quote(filepath.Join(root, m)))
		b, err := os.ReadFile(filepath.Join(root, m, "go.sum"))
		if err != nil {
			return err
		}
		sum.Write(b)
	}
	return errors.Join(writeFile(filepath.Join(dir, "go.mod"), mod.Bytes()),
		writeFile(filepath.Join(dir, "go.sum"), sum.Bytes()))
}

func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// compilerMessage matches a line of the compiler's output.
var compilerMessage = regexp.MustCompile(`^(?:\./)?(snippet\d+/snippet\.go):(\d+):(?:\d+:)? (.*)$`)

// mapErrors rewrites the compiler's output with Markdown lines.
func mapErrors(output []byte, path string, files map[string]snippetFile) string {
	var b strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(output))
	for sc.Scan() {
		line := sc.Text()
		m := compilerMessage.FindStringSubmatch(line)
		if m == nil {
			if !strings.HasPrefix(line, "# ") {
				fmt.Fprintln(&b, line)
			}
			continue
		}
		f := files[m[1]]
		n, _ := strconv.Atoi(m[2])
		if n >= 1 && n <= len(f.lines) && f.lines[n-1] > 0 {
			fmt.Fprintf(&b, "%s:%d: %s\n", path, f.lines[n-1], m[3])
		} else { // a line the checker added
			fmt.Fprintf(&b, "%s:%d (the block's wrapping): %s\n", path, f.block, m[3])
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// A block is a ```go block: its lines and the Markdown line of the first.
type block struct {
	line  int
	lines []string
}

// goBlocks returns the ```go blocks of a Markdown text.
func goBlocks(md []byte) []block {
	var blocks []block
	var cur *block
	for i, line := range strings.Split(string(md), "\n") {
		switch {
		case cur == nil && strings.TrimSpace(line) == "```go":
			cur = &block{line: i + 2}
		case cur != nil && strings.TrimSpace(line) == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.lines = append(cur.lines, line)
		}
	}
	return blocks
}

// A snippetFile is the Go file made of a block.
type snippetFile struct {
	kind  string // "file" or "fragment", for the progress lines
	src   []byte
	block int   // the block's first Markdown line
	lines []int // Markdown line of each line of src; 0 for added lines
}

// file returns the Go file of the block.
func (b block) file() (snippetFile, error) {
	lines := make([]int, len(b.lines))
	for i := range lines {
		lines[i] = b.line + i
	}
	for _, l := range b.lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		if strings.HasPrefix(l, "package ") {
			return snippetFile{kind: "file", src: []byte(strings.Join(b.lines, "\n") + "\n"), block: b.line, lines: lines}, nil
		}
		break
	}
	return b.fragment()
}

// fragment returns the Go file of a fragment (see the package
// documentation): the package clause and imports on the first line, the
// declarations, then the statements in the body of func _, then the
// environment the fragment does not declare.
func (b block) fragment() (snippetFile, error) {
	body := elide(strings.Join(b.lines, "\n"))
	var decls, stmts []string
	var declLines, stmtLines []int
	inDecl := false
	for i, l := range strings.Split(body, "\n") {
		start := !inDecl && slices.ContainsFunc([]string{"func ", "type ", "var ", "const "}, func(p string) bool { return strings.HasPrefix(l, p) })
		switch {
		case start || inDecl:
			decls, declLines = append(decls, l), append(declLines, b.line+i)
			if start {
				inDecl = strings.HasSuffix(strings.TrimSpace(l), "{") || strings.HasSuffix(strings.TrimSpace(l), "(")
			} else if l == "}" || l == ")" {
				inDecl = false
			}
		default:
			stmts, stmtLines = append(stmts, l), append(stmtLines, b.line+i)
		}
	}
	src := []string{"package snippet"}
	lines := []int{0}
	src, lines = append(src, decls...), append(lines, declLines...)
	src, lines = append(src, "func _() {"), append(lines, 0)
	src, lines = append(src, stmts...), append(lines, stmtLines...)
	src, lines = append(src, "}"), append(lines, 0)

	code := strings.Join(src, "\n") + "\n"
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "snippet.go", code, parser.SkipObjectResolution)
	if err != nil {
		return snippetFile{}, mapSyntaxError(err, b.line, lines)
	}
	code = useVariables(fset, f, code)
	declared := topLevelNames(f)
	n := len(src)
	for _, name := range sortedKeys(environment) {
		if !declared[name] {
			src, lines = append(src, environment[name]), append(lines, 0)
		}
	}
	for _, name := range sortedKeys(excerpts) {
		if declared[name] {
			src = append(src, fmt.Sprintf("var _ %s = %s(nil)", excerpts[name], name), fmt.Sprintf("var _ %s = %s(nil)", name, excerpts[name]))
			lines = append(lines, 0, 0)
		}
	}
	code += strings.Join(src[n:], "\n") + "\n"
	code = strings.Replace(code, "package snippet", "package snippet; "+imports(code), 1)
	return snippetFile{kind: "fragment", src: []byte(code), block: b.line, lines: lines}, nil
}

// mapSyntaxError reports a parse error of a fragment at its Markdown line.
func mapSyntaxError(err error, block int, lines []int) error {
	var list scanner.ErrorList
	if !errors.As(err, &list) || len(list) == 0 {
		return fmt.Errorf("%d: %v", lines[0], err)
	}
	e := list[0]
	if n := e.Pos.Line; n >= 1 && n <= len(lines) && lines[n-1] > 0 {
		return fmt.Errorf("%d: %s", lines[n-1], e.Msg)
	}
	return fmt.Errorf("%d (the block's wrapping): %s", block, e.Msg)
}

// elide replaces each "..." that stands where a statement could (after
// "{", ";" or a line break, before "}", ";" or a line break) with a
// statement, leaving "..." elsewhere (variadic calls and parameters,
// arrays, comments) alone. Line and column numbers are kept.
func elide(src string) string {
	var s scanner.Scanner
	fset := token.NewFileSet()
	file := fset.AddFile("", -1, len(src))
	s.Init(file, []byte(src), nil, 0)
	var offsets []int
	prev := token.SEMICOLON // the start of the text
	prevLine := 0
	type tok struct {
		pos  token.Pos
		tok  token.Token
		line int
	}
	var toks []tok
	for {
		pos, t, _ := s.Scan()
		if t == token.EOF {
			break
		}
		toks = append(toks, tok{pos, t, file.Line(pos)})
	}
	for i, t := range toks {
		if t.tok != token.ELLIPSIS {
			prev, prevLine = t.tok, t.line
			continue
		}
		before := i == 0 || prev == token.LBRACE || prev == token.SEMICOLON || prevLine < t.line
		after := i == len(toks)-1 || toks[i+1].tok == token.RBRACE || toks[i+1].tok == token.SEMICOLON || toks[i+1].line > t.line
		if before && after {
			offsets = append(offsets, file.Offset(t.pos))
		}
		prev, prevLine = t.tok, t.line
	}
	for _, off := range slices.Backward(offsets) {
		src = src[:off] + `panic("...")` + src[off+3:]
	}
	return src
}

// useVariables adds, before the closing brace of each function body of f
// (parsed from code), a use of each variable that the body declares at
// its top level, so that variables a fragment leaves unused compile. Line
// numbers are kept.
func useVariables(fset *token.FileSet, f *ast.File, code string) string {
	type insert struct {
		off  int
		text string
	}
	var inserts []insert
	ast.Inspect(f, func(n ast.Node) bool {
		var body *ast.BlockStmt
		switch n := n.(type) {
		case *ast.FuncDecl:
			body = n.Body
		case *ast.FuncLit:
			body = n.Body
		}
		if body == nil {
			return true
		}
		var names []string
		add := func(id *ast.Ident) {
			if id.Name != "_" && !slices.Contains(names, id.Name) {
				names = append(names, id.Name)
			}
		}
		for _, st := range body.List {
			switch st := st.(type) {
			case *ast.AssignStmt:
				if st.Tok == token.DEFINE {
					for _, e := range st.Lhs {
						if id, ok := e.(*ast.Ident); ok {
							add(id)
						}
					}
				}
			case *ast.DeclStmt:
				if g, ok := st.Decl.(*ast.GenDecl); ok && g.Tok == token.VAR {
					for _, spec := range g.Specs {
						for _, id := range spec.(*ast.ValueSpec).Names {
							add(id)
						}
					}
				}
			}
		}
		if len(names) > 0 {
			var text strings.Builder
			for _, name := range names {
				fmt.Fprintf(&text, "; _ = %s", name)
			}
			text.WriteString("; ")
			inserts = append(inserts, insert{fset.Position(body.Rbrace).Offset, text.String()})
		}
		return true
	})
	slices.SortFunc(inserts, func(a, b insert) int { return b.off - a.off })
	for _, in := range inserts {
		code = code[:in.off] + in.text + code[in.off:]
	}
	return code
}

// topLevelNames returns the names f declares at package level.
func topLevelNames(f *ast.File) map[string]bool {
	names := make(map[string]bool)
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil {
				names[d.Name.Name] = true
			}
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				switch spec := spec.(type) {
				case *ast.TypeSpec:
					names[spec.Name.Name] = true
				case *ast.ValueSpec:
					for _, id := range spec.Names {
						names[id.Name] = true
					}
				}
			}
		}
	}
	return names
}

// imports returns an import declaration, on one line, of the packages
// whose names code uses as name.Name outside comments.
func imports(code string) string {
	var s scanner.Scanner
	fset := token.NewFileSet()
	s.Init(fset.AddFile("", -1, len(code)), []byte(code), nil, 0)
	used := make(map[string]bool)
	var prev [2]string // the two tokens before, as "IDENT:name" or the token
	for {
		_, t, lit := s.Scan()
		if t == token.EOF {
			break
		}
		cur := t.String()
		if t == token.IDENT {
			cur = "IDENT:" + lit
			if prev[1] == "." {
				if name, ok := strings.CutPrefix(prev[0], "IDENT:"); ok && packages[name] != "" {
					used[name] = true
				}
			}
		}
		prev = [2]string{prev[1], cur}
	}
	if len(used) == 0 {
		return ""
	}
	var paths []string
	for _, name := range sortedKeys(used) {
		paths = append(paths, strconv.Quote(packages[name]))
	}
	return "import (" + strings.Join(paths, "; ") + ")"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
