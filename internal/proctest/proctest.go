// Package proctest reads what Linux reports of the test process's own
// use of memory, for the load tests that bound it.
package proctest

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// StatusKiB returns the Vm* lines of /proc/self/status (VmRSS, VmHWM and
// the others), in KiB. It fails t if it cannot read them, or if VmRSS or
// VmHWM is missing.
func StatusKiB(t testing.TB) map[string]int {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if f := strings.Fields(v); ok && strings.HasPrefix(k, "Vm") && len(f) == 2 && f[1] == "kB" {
			if n, err := strconv.Atoi(f[0]); err == nil {
				m[k] = n
			}
		}
	}
	if err := sc.Err(); err != nil || m["VmHWM"] == 0 || m["VmRSS"] == 0 {
		t.Fatalf("/proc/self/status: no VmHWM and VmRSS (%v)", err)
	}
	return m
}
