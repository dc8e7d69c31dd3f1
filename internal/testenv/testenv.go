// Package testenv tells tests about the build they run in.
package testenv

import "runtime/debug"

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
