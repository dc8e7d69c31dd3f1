package httpauth_test

// The attack suite (internal/httpauthtest/attack.go) on the memory store;
// internal/e2e runs it on SQLite and PostgreSQL.
//
// Run it alone with: go test -race -run Attack ./httpauth

import (
	"context"
	"log/slog"
	"runtime"
	"strings"
	"testing"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/internal/httpauthtest"
	"github.com/gatehouse-go/gatehouse/store/memstore"
)

// memory is the store the scenarios of internal/httpauthtest run on here.
var memory = []httpauthtest.Store{httpauthtest.Memory}

func TestAttackTokens(t *testing.T)        { httpauthtest.AttackTokens(t, memory) }
func TestAttackRequestBodies(t *testing.T) { httpauthtest.AttackRequestBodies(t, memory) }
func TestAttackInjectionStoredLiterally(t *testing.T) {
	httpauthtest.AttackInjectionStoredLiterally(t, memory)
}
func TestAttackConcurrentDuplicateSignups(t *testing.T) {
	httpauthtest.AttackConcurrentDuplicateSignups(t, memory)
}
func TestAttackLookAlikeEmails(t *testing.T) { httpauthtest.AttackLookAlikeEmails(t, memory) }

// TestAttackHugeTokenFlatMemory checks that a 1 MiB token is refused by
// its length alone: verifying it allocates a few small objects, nothing
// that grows with the input. (Time is not asserted; memory is the
// deterministic witness of "before any parsing".)
//
// The audit log is discarded: what a logger allocates per record is the
// application's handler's business, and the record is the same small one
// for every input here.
func TestAttackHugeTokenFlatMemory(t *testing.T) {
	svc, err := auth.New(memstore.New(), auth.Config{Secret: httpauthtest.Secret, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for name, token := range map[string]string{
		"1 MiB of dots":          strings.Repeat(".", 1<<20),
		"1 MiB of base64url":     strings.Repeat("A", 1<<20),
		"1 MiB of segments":      strings.Repeat("eyJhbGciOiJIUzI1NiJ9.", 1<<20/21),
		"one byte over the cap":  strings.Repeat("A", 4097),
		"1 MiB of invalid bytes": strings.Repeat("\xff", 1<<20),
	} {
		t.Run(name, func(t *testing.T) {
			verify := func() {
				if _, err := svc.VerifyToken(ctx, token); err == nil {
					t.Fatal("token accepted")
				}
			}
			allocs := testing.AllocsPerRun(100, verify)
			if allocs > 8 {
				t.Errorf("%v allocations per verification, want at most 8", allocs)
			}
			const runs = 1000
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			for range runs {
				verify()
			}
			runtime.ReadMemStats(&after)
			if perCall := (after.TotalAlloc - before.TotalAlloc) / runs; perCall > 1024 {
				t.Errorf("%d bytes allocated per verification of a %d-byte token, want at most 1 KiB", perCall, len(token))
			}
		})
	}
}
