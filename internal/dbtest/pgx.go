package dbtest

// pgx is registered here for the tests of packages outside the stores
// (httpauth's) that open PostgreSQL through this package and import no
// driver; the stores' tests import it themselves.
import _ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
