package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gatehouse-go/gatehouse/auth/throttle"
)

// MaxKeyBytes is the longest attempt key AddAttempt accepts. The
// Service's keys are 64 hex digits; the stores' key_hash columns hold no
// more.
const MaxKeyBytes = 64

// Pruning of idle attempt counters: after an AddAttempt, at most every
// PruneEvery (by the clock of the times AddAttempt is given), or at once
// if the previous prune deleted a full batch, a Store deletes up to
// PruneBatch counters idle for longer than [throttle.Retention]. As
// every AddAttempt adds at most one counter, the table cannot outgrow the
// counters used within Retention by more than a batch.
const (
	PruneEvery = time.Minute
	PruneBatch = 1000
)

// Pruner is the pruning state of one Store. The zero value is ready to
// use; a Pruner must not be copied after first use.
type Pruner struct {
	mu   sync.Mutex // held while pruning
	last time.Time  // when the latest prune ran
	more bool       // it deleted a full batch
}

// Attempts returns the counter under key, or the zero throttle.Attempts if
// there is none.
func (d *Dialect) Attempts(ctx context.Context, db *sql.DB, key string) (throttle.Attempts, error) {
	const op = "attempts"
	if err := ctx.Err(); err != nil {
		return throttle.Attempts{}, d.wrap(ctx, op, err)
	}
	a, err := d.scanAttempts(db.QueryRowContext(ctx, d.AttemptsGet, key))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return throttle.Attempts{}, nil
	case err != nil:
		return throttle.Attempts{}, d.wrap(ctx, op, err)
	}
	return a, nil
}

// AddAttempt counts an attempt under key as [throttle.Store] says, and
// then, now and then, prunes idle counters (see [PruneEvery]); a failed
// prune is not reported, and is tried again at the next one.
func (d *Dialect) AddAttempt(ctx context.Context, db *sql.DB, p *Pruner, key string, now time.Time, expiry time.Duration) (throttle.Attempts, error) {
	const op = "add attempt"
	if err := ctx.Err(); err != nil {
		return throttle.Attempts{}, d.wrap(ctx, op, err)
	}
	if len(key) > MaxKeyBytes {
		return throttle.Attempts{}, d.wrap(ctx, op, fmt.Errorf("key is %d bytes long; at most %d are accepted", len(key), MaxKeyBytes))
	}
	args := []any{key, d.EncodeTime(now), d.EncodeTime(now.Add(-expiry)), d.EncodeTime(now)}
	var a throttle.Attempts
	var err error
	if d.AttemptsAddInTx {
		a, err = d.addInTx(ctx, db, key, args)
	} else {
		a, err = d.scanAttempts(db.QueryRowContext(ctx, d.AttemptsAdd, args...))
	}
	if err != nil {
		return throttle.Attempts{}, d.wrap(ctx, op, err)
	}
	d.prune(ctx, db, p, now)
	return a, nil
}

func (d *Dialect) addInTx(ctx context.Context, db *sql.DB, key string, args []any) (throttle.Attempts, error) {
	var a throttle.Attempts
	err := inTx(ctx, db, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, d.AttemptsAdd, args...); err != nil {
			return err
		}
		var err error
		a, err = d.scanAttempts(tx.QueryRowContext(ctx, d.AttemptsGet, key))
		return err
	})
	if err != nil {
		return throttle.Attempts{}, err
	}
	return a, nil
}

// ResetAttempts deletes the counter under key, if there is one.
func (d *Dialect) ResetAttempts(ctx context.Context, db *sql.DB, key string) error {
	const op = "reset attempts"
	if err := ctx.Err(); err != nil {
		return d.wrap(ctx, op, err)
	}
	if _, err := db.ExecContext(ctx, d.AttemptsReset, key); err != nil {
		return d.wrap(ctx, op, err)
	}
	return nil
}

func (d *Dialect) scanAttempts(row *sql.Row) (throttle.Attempts, error) {
	var a throttle.Attempts
	var n int64
	if err := row.Scan(&n, timeScanner{col: "last_at", decode: d.DecodeTime, t: &a.Last}); err != nil {
		return throttle.Attempts{}, err
	}
	a.Count = int(n)
	return a, nil
}

// prune deletes a batch of idle counters if it is time to, unless another
// call is already at it.
func (d *Dialect) prune(ctx context.Context, db *sql.DB, p *Pruner, now time.Time) {
	if !p.mu.TryLock() {
		return
	}
	defer p.mu.Unlock()
	if !p.more && !p.last.IsZero() && now.After(p.last) && now.Sub(p.last) < PruneEvery {
		return
	}
	p.last, p.more = now, false
	res, err := db.ExecContext(ctx, d.AttemptsPrune, d.EncodeTime(now.Add(-throttle.Retention)))
	if err != nil {
		return
	}
	n, err := res.RowsAffected()
	p.more = err == nil && n >= PruneBatch
}
