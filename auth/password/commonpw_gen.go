//go:build ignore

// commonpw_gen writes commonpw.txt and commonpw_LICENSE from an installed
// copy of the npm package @zxcvbn-ts/language-common:
//
//	cd "$(mktemp -d)" && npm install @zxcvbn-ts/language-common@4.1.3
//	cd /path/to/gatehouse/auth/password && go run commonpw_gen.go -pkg "$OLDPWD/node_modules/@zxcvbn-ts/language-common"
//
// It keeps the entries of the package's passwords dictionary
// (src/passwords.json, ordered by frequency) that the password policy could
// otherwise accept, at least 8 code points after NFKC, in the form the
// policy compares: NFKC, then upper case, then lower case. The result is deduplicated and
// sorted bytewise, one entry per line, after a header of "#" lines that
// carries the source's licence. The folding here must stay the same as
// commonPasswordKey's applied to preparePassword's output;
// TestCommonPasswordFile checks that it does.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

const (
	pkgName  = "@zxcvbn-ts/language-common"
	minRunes = 8    // minPasswordRunes
	maxBytes = 1024 // maxPasswordBytes
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("commonpw_gen: ")
	dir := flag.String("pkg", "", "directory of the installed npm package "+pkgName)
	flag.Parse()
	if *dir == "" {
		log.Fatal("-pkg is required")
	}

	var meta struct{ Name, Version, License string }
	readJSON(filepath.Join(*dir, "package.json"), &meta)
	if meta.Name != pkgName || meta.License != "MIT" {
		log.Fatalf("%s is %s (%s), want %s (MIT)", *dir, meta.Name, meta.License, pkgName)
	}
	licence, err := os.ReadFile(filepath.Join(*dir, "LICENSE.txt"))
	if err != nil {
		log.Fatal(err)
	}
	var all []string
	readJSON(filepath.Join(*dir, "src", "passwords.json"), &all)

	seen := map[string]bool{}
	var keep []string
	for _, p := range all {
		n := norm.NFKC.String(p)
		if !utf8.ValidString(p) || utf8.RuneCountInString(n) < minRunes || len(n) > maxBytes {
			continue
		}
		k := strings.ToLower(strings.ToUpper(n))
		if strings.ContainsAny(k, "\r\n") || strings.HasPrefix(k, "#") {
			log.Fatalf("entry %q cannot be written one per line after a # header", p)
		}
		if !seen[k] {
			seen[k] = true
			keep = append(keep, k)
		}
	}
	slices.Sort(keep)

	source := fmt.Sprintf("the passwords dictionary (src/passwords.json)\nof the npm package %s %s (https://github.com/zxcvbn-ts/zxcvbn)", meta.Name, meta.Version)
	licence = bytes.TrimSpace(licence)

	var txt bytes.Buffer
	header := fmt.Sprintf("Common passwords that gatehouse's password policy rejects (package auth/password):\n"+
		"%d of the %d entries of %s,\n"+
		"those of at least %d code points after NFKC, NFKC-normalised, case-folded,\n"+
		"deduplicated and sorted bytewise; one per line after this header.\n"+
		"Regenerate with commonpw_gen.go. The source is under this licence:\n\n%s",
		len(keep), len(all), source, minRunes, licence)
	for line := range strings.Lines(header + "\n") {
		txt.WriteString(strings.TrimRight("# "+line, " \n") + "\n")
	}
	for _, k := range keep {
		txt.WriteString(k + "\n")
	}
	write("commonpw.txt", txt.Bytes())
	write("commonpw_LICENSE", fmt.Appendf(nil, "commonpw.txt is derived from %s,\nwhich is distributed under the following licence.\n\n%s\n", source, licence))
	log.Printf("wrote %d of %d entries (%d bytes) from %s %s", len(keep), len(all), txt.Len(), meta.Name, meta.Version)
}

func readJSON(path string, v any) {
	b, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		log.Fatalf("%s: %v", path, err)
	}
}

func write(name string, b []byte) {
	if err := os.WriteFile(name, b, 0o644); err != nil {
		log.Fatal(err)
	}
}
