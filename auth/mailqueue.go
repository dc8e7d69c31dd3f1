package auth

import (
	"context"
	"sync"
	"time"
)

// mailSendTimeout bounds one Mailer.Send call of the mail queue.
const mailSendTimeout = time.Minute

// mailQueue sends messages off the request path: a bounded buffer,
// drained by at most workers goroutines that run only while it holds
// messages. A message that finds the buffer full is dropped, and
// recorded as failed, so that a Mailer that is down or slow costs a
// bounded amount of memory however many messages are asked for.
type mailQueue struct {
	mailer  Mailer
	audit   *auditor
	buf     chan queuedMail
	workers int

	mu      sync.Mutex
	running int  // workers running
	closed  bool // Shutdown was called: nothing more is queued
	wg      sync.WaitGroup
}

// queuedMail is a message with the context of the call that queued it,
// its cancellation removed, so that its audit events carry the call's
// client address.
type queuedMail struct {
	ctx    context.Context
	kind   MailKind
	userID string
	msg    Message
}

func newMailQueue(m Mailer, audit *auditor, size, workers int) *mailQueue {
	return &mailQueue{mailer: m, audit: audit, buf: make(chan queuedMail, size), workers: workers}
}

// enqueue queues msg for sending, or records it as failed if the queue
// is full or shut down. It never blocks.
func (q *mailQueue) enqueue(ctx context.Context, kind MailKind, userID string, msg Message) {
	m := queuedMail{ctx: context.WithoutCancel(ctx), kind: kind, userID: userID, msg: msg}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		q.failed(m, "mail queue shut down")
		return
	}
	select {
	case q.buf <- m:
	default:
		q.failed(m, "mail queue full")
		return
	}
	if q.running < q.workers {
		q.running++
		q.wg.Add(1)
		go q.work()
	}
}

// work sends queued messages until the queue is empty.
func (q *mailQueue) work() {
	defer q.wg.Done()
	for {
		q.mu.Lock()
		var m queuedMail
		select {
		case m = <-q.buf:
		default:
			q.running--
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
		q.send(m)
	}
}

func (q *mailQueue) send(m queuedMail) {
	ctx, cancel := context.WithTimeout(m.ctx, mailSendTimeout)
	defer cancel()
	if err := q.mailer.Send(ctx, m.msg); err != nil {
		q.failed(m, err.Error())
		return
	}
	q.audit.record(m.ctx, Event{Kind: EventMailSent, UserID: m.userID, Email: m.msg.To, Reason: string(m.kind)})
}

func (q *mailQueue) failed(m queuedMail, reason string) {
	q.audit.record(m.ctx, Event{Kind: EventMailFailed, UserID: m.userID, Email: m.msg.To, Reason: string(m.kind) + ": " + reason})
}

// shutdown stops queueing and waits until the queued messages are sent or
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
