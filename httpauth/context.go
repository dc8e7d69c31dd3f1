package httpauth

import (
	"context"

	"github.com/gatehouse-go/gatehouse/auth/token"
)

// contextKey is unexported and compared by pointer, so no other package can
// plant values under it.
type contextKey struct{ name string }

var claimsKey = &contextKey{"claims"}

// ClaimsFromContext returns the verified claims that [Authenticate] or
// [Handler.Middleware] stored in ctx, and whether there were any. It never panics; handlers that
// the middleware did not wrap get (nil, false).
func ClaimsFromContext(ctx context.Context) (*token.Claims, bool) {
	c, ok := ctx.Value(claimsKey).(*token.Claims)
	return c, ok && c != nil
}

func withClaims(ctx context.Context, c *token.Claims) context.Context {
	return context.WithValue(ctx, claimsKey, c)
}
