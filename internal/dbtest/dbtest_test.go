package dbtest

import "testing"

// The tests that open databases, and so need the drivers, are in
// internal/e2e (dbtest_test.go), the module that requires them.

func TestWithSearchPath(t *testing.T) {
	tests := []struct{ dsn, want string }{
		{"postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
			"postgres://postgres@127.0.0.1:5432/test?search_path=s1&sslmode=disable"},
		{"postgresql://u:p%40ss@h/db", "postgresql://u:p%40ss@h/db?search_path=s1"},
		{"postgres://h/db?search_path=other", "postgres://h/db?search_path=s1"},
		{"host=127.0.0.1 user=postgres dbname=test", "host=127.0.0.1 user=postgres dbname=test search_path=s1"},
	}
	for _, tt := range tests {
		got, err := withSearchPath(tt.dsn, "s1")
		if err != nil || got != tt.want {
			t.Errorf("withSearchPath(%q, \"s1\") = %q, %v; want %q", tt.dsn, got, err, tt.want)
		}
	}
}
