// Package testenv tells tests about the build and the environment they
// run in: the race detector, CI, and the programs on PATH.
package testenv

import (
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"testing"
)

// RaceEnabled reports whether the binary was built with the race
// detector (go test -race), which distorts timings and memory use, so
// tests that measure those skip under it.
func RaceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// InCI reports whether the CI environment variable is true (as
// strconv.ParseBool reads it: "true", "1", "t" and their like), in which
// case tests must not skip for want of a database or a program.
func InCI() bool {
	ci, _ := strconv.ParseBool(os.Getenv("CI"))
	return ci
}

// Missing ends t for want of something it needs, which msg names along
// with how to get it: it fails t under CI, which must run every test,
// and skips it elsewhere.
func Missing(t testing.TB, msg string) {
	t.Helper()
	if InCI() {
		t.Fatal(msg + " (CI=true: tests must not skip)")
	}
	t.Skip(msg)
}

// Tool returns the path of the program name on PATH. Without it, it ends
// t by [Missing] with hint, how to install the program (such as
// "apt-get install oathtool").
func Tool(t testing.TB, name, hint string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name+" is needed ("+hint+"): "+err.Error())
	}
	return path
}
