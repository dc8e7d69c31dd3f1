package httpauth

import (
	"net/http"
	"testing"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/store/memstore"
)

// TestRouteTable checks the shape of the table: one route per method and
// path, each with one success answer, and the answers every route of its
// kind gives.
func TestRouteTable(t *testing.T) {
	svc, err := auth.New(memstore.New(), auth.Config{Secret: []byte("0123456789abcdef0123456789abcdef"), RefreshTokens: true,
		Mailer: auth.LogMailer{}})
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(svc, Config{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, rt := range h.table {
		op := rt.method + " " + rt.path
		if seen[op] {
			t.Errorf("%s: twice in the table", op)
		}
		seen[op] = true
		if !rt.on {
			t.Errorf("%s: off with every feature on", op)
		}
		statuses := map[int]bool{}
		successes := 0
		for _, a := range rt.allAnswers() {
			if statuses[a.status] {
				t.Errorf("%s: two answers of status %d", op, a.status)
			}
			statuses[a.status] = true
			if a.status < 300 {
				successes++
				if len(a.problems) > 0 {
					t.Errorf("%s: success %d with problem types", op, a.status)
				}
			} else if a.status >= 400 && len(a.problems) == 0 {
				t.Errorf("%s: error %d without a problem type", op, a.status)
			}
		}
		want := []int{http.StatusInternalServerError}
		if rt.request != nil {
			want = append(want, 400, 413, 415)
		}
		if rt.auth == authBearer {
			want = append(want, 401)
		}
		for _, s := range want {
			if !statuses[s] {
				t.Errorf("%s: no %d answer", op, s)
			}
		}
		if successes != 1 {
			t.Errorf("%s: %d success answers, want 1", op, successes)
		}
	}
}
