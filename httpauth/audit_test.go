package httpauth_test

import (
	"context"
	"sync"
	"testing"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/internal/httpauthtest"
)

// TestAuditClientIP checks that the endpoints hand the client's address to
// the Service's audit events.
func TestAuditClientIP(t *testing.T) {
	var (
		mu     sync.Mutex
		events []auth.Event
	)
	s := httpauthtest.NewApp(t, nil, auth.Config{OnEvent: func(_ context.Context, ev auth.Event) {
		mu.Lock()
		events = append(events, ev)
		mu.Unlock()
	}})
	s.Signup(t, "Ada", "ada@example.com", httpauthtest.Password)
	s.Post(t, httpauthtest.LoginPath, `{"email":"ada@example.com","password":"not the password"}`)

	mu.Lock()
	defer mu.Unlock()
	if len(events) != 2 || events[0].Kind != auth.EventSignup || events[1].Kind != auth.EventLoginFailed {
		t.Fatalf("events %+v, want a sign-up and a failed login", events)
	}
	for _, ev := range events {
		if ev.ClientIP.String() != "127.0.0.1" {
			t.Errorf("%s: ClientIP %v, want 127.0.0.1", ev.Kind, ev.ClientIP)
		}
	}
}
