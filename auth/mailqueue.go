package auth

import (
	"context"
	"runtime/debug"
	"strings"
	"sync"
	"time"
	"unicode"
)

// mailSendTimeout bounds one Mailer.Send call of the mail queue.
const mailSendTimeout = time.Minute

// mailQueue runs the mail jobs of the account flows off the request
// path: a bounded buffer, drained by at most workers goroutines that run
// only while it holds jobs. A job renders and sends a message, and may
// first do the work that decides whether there is one (a password reset
// looks the account up there, so that the request does the same work
// whether or not the account exists). A job that finds the buffer full is
// dropped, and recorded as failed, so that a Mailer that is down or slow
// costs a bounded amount of memory however many messages are asked for.
type mailQueue struct {
	mailer  Mailer
	audit   *auditor
	buf     chan mailJob
	workers int

	mu      sync.Mutex
	running int  // workers running
	closed  bool // Shutdown was called: nothing more is queued
	wg      sync.WaitGroup
}

// mailJob is a job with the context of the call that queued it, its
// cancellation removed, so that its audit events carry the call's client
// address; kind, userID and email describe it for the record of a job
// that is dropped.
type mailJob struct {
	ctx    context.Context
	kind   MailKind
	userID string // "" if not known yet
	email  string
	run    func(ctx context.Context, q *mailQueue)
}

func newMailQueue(m Mailer, audit *auditor, size, workers int) *mailQueue {
	return &mailQueue{mailer: m, audit: audit, buf: make(chan mailJob, size), workers: workers}
}

// enqueue queues a job that sends msg.
func (q *mailQueue) enqueue(ctx context.Context, kind MailKind, userID string, msg Message) {
	q.enqueueJob(ctx, kind, userID, msg.To, func(ctx context.Context, q *mailQueue) {
		q.send(ctx, kind, userID, msg)
	})
}

// enqueueJob queues run, or records the job as failed if the queue is
// full or shut down. It never blocks: the record of a failure, which
// calls Config.OnEvent, is made after the queue's lock is released. run
// is called with a context that carries the values of ctx, without its
// cancellation.
func (q *mailQueue) enqueueJob(ctx context.Context, kind MailKind, userID, email string, run func(ctx context.Context, q *mailQueue)) {
	m := mailJob{ctx: context.WithoutCancel(ctx), kind: kind, userID: userID, email: email, run: run}
	if reason := q.push(m); reason != "" {
		q.failed(m, reason)
	}
}

// push queues m and starts a worker if fewer than q.workers run, or
// returns why it cannot.
func (q *mailQueue) push(m mailJob) (failure string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return "mail queue shut down"
	}
	select {
	case q.buf <- m:
	default:
		return "mail queue full"
	}
	if q.running < q.workers {
		q.running++
		q.wg.Add(1)
		go q.work()
	}
	return ""
}

// work runs queued jobs until the queue is empty.
func (q *mailQueue) work() {
	defer q.wg.Done()
	for {
		q.mu.Lock()
		var m mailJob
		select {
		case m = <-q.buf:
		default:
			q.running--
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
		q.run(m)
	}
}

// run runs m. A job that panics (in the Mailer, a template or the store)
// is recorded as failed and costs nothing else: the worker goes on with
// the next job. The panic's value is not recorded, since it may quote
// the message and its link; the stack is logged at level Error.
func (q *mailQueue) run(m mailJob) {
	defer func() {
		if recover() != nil {
			q.audit.log.Error("auth: mail job panicked", "kind", string(m.kind), "stack", string(debug.Stack()))
			q.failed(m, "the mail job panicked")
		}
	}()
	m.run(m.ctx, q)
}

// send hands msg to the Mailer, within mailSendTimeout, and records the
// outcome. The record of a failure holds the Mailer's error with the
// long words of msg (its links and their tokens) blanked out, for a
// Mailer whose errors quote the message.
func (q *mailQueue) send(ctx context.Context, kind MailKind, userID string, msg Message) {
	sctx, cancel := context.WithTimeout(ctx, mailSendTimeout)
	defer cancel()
	if err := q.mailer.Send(sctx, msg); err != nil {
		q.audit.record(ctx, Event{Kind: EventMailFailed, UserID: userID, Email: msg.To, Reason: string(kind) + ": " + redact(err.Error(), msg)})
		return
	}
	q.audit.record(ctx, Event{Kind: EventMailSent, UserID: userID, Email: msg.To, Reason: string(kind)})
}

// redact returns s with each word of msg's text and HTML parts of 16
// bytes or more, split at white space, quotes and the delimiters of URLs,
// replaced by "[redacted]": the tokens of links, and the links.
func redact(s string, msg Message) string {
	delim := func(r rune) bool { return unicode.IsSpace(r) || strings.ContainsRune(`"'<>()[]{}?&=/#:;,\`, r) }
	for _, part := range []string{msg.Text, msg.HTML} {
		for _, w := range strings.FieldsFunc(part, delim) {
			if len(w) >= 16 {
				s = strings.ReplaceAll(s, w, "[redacted]")
			}
		}
	}
	return s
}

func (q *mailQueue) failed(m mailJob, reason string) {
	q.audit.record(m.ctx, Event{Kind: EventMailFailed, UserID: m.userID, Email: m.email, Reason: string(m.kind) + ": " + reason})
}

// shutdown stops queueing and waits until the queued jobs are done or
// ctx is done.
func (q *mailQueue) shutdown(ctx context.Context) error {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	done := make(chan struct{})
	go func() {
		q.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
