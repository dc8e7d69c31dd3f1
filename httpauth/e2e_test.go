package httpauth_test

import (
	"testing"

	"github.com/gatehouse-go/gatehouse/internal/httpauthtest"
)

// TestEndToEnd signs up, logs in and calls a protected route over a real
// listener (internal/httpauthtest/e2e.go), on the memory store;
// internal/e2e runs it on SQLite and PostgreSQL.
func TestEndToEnd(t *testing.T) { httpauthtest.EndToEnd(t, memory) }

// TestMFA runs the two-factor scenario (internal/httpauthtest/mfa.go)
// over a real listener on the memory store, with codes computed by
// oathtool; internal/e2e runs it on SQLite and PostgreSQL.
func TestMFA(t *testing.T) { httpauthtest.MFA(t, memory) }
