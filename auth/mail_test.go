package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"log/slog"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	texttemplate "text/template"
	"time"
)

// testLink is a mail link as the flows make them, with a token.
const testLink = "http://localhost:8080/verify-email?token=Zm9vYmFyLXRva2VuLXRoYXQtaXMtbG9uZw"

// testMailData returns the data of a message of kind to ada@example.com,
// with a display name that HTML must escape.
func testMailData(kind MailKind) MailData {
	return MailData{Kind: kind, Name: `Zoë <script>alert("x")</script> & Co`, Email: "ada@example.com",
		NewEmail: "ada.new@example.com", Link: testLink, Expires: "1 hour"}
}

func TestDefaultMailTemplates(t *testing.T) {
	templates := DefaultMailTemplates()
	kinds := []MailKind{MailVerifyEmail, MailResetPassword, MailPasswordChanged, MailConfirmEmail, MailEmailChanging, MailMFAEnabled, MailMFADisabled}
	if got := slices.Sorted(maps.Keys(templates)); !slices.Equal(got, slices.Sorted(slices.Values(kinds))) {
		t.Fatalf("kinds %v, want %v", got, kinds)
	}
	links := map[MailKind]bool{MailVerifyEmail: true, MailResetPassword: true, MailConfirmEmail: true}
	for _, kind := range kinds {
		t.Run(string(kind), func(t *testing.T) {
			d := testMailData(kind)
			m, err := templates[kind].render(d)
			if err != nil {
				t.Fatal(err)
			}
			if m.To != d.Email || m.Subject == "" || strings.ContainsAny(m.Subject, "\r\n") {
				t.Errorf("to %q, subject %q", m.To, m.Subject)
			}
			if !strings.Contains(m.Text, d.Name) {
				t.Errorf("the text part lacks the name as given:\n%s", m.Text)
			}
			if strings.Contains(m.HTML, "<script>") || !strings.Contains(m.HTML, "Zoë &lt;script&gt;") {
				t.Errorf("the HTML part does not escape the name:\n%s", m.HTML)
			}
			if links[kind] {
				if !strings.Contains(m.Text, "\n"+d.Link+"\n") {
					t.Errorf("the text part lacks the link on a line of its own:\n%s", m.Text)
				}
				if !strings.Contains(m.HTML, `href="`+d.Link+`"`) {
					t.Errorf("the HTML part lacks the link intact:\n%s", m.HTML)
				}
				if !strings.Contains(m.Text, d.Expires) || !strings.Contains(m.HTML, d.Expires) {
					t.Errorf("the message does not say how long the link lives")
				}
			} else if strings.Contains(m.Text+m.HTML, d.Link) {
				t.Errorf("a notice carries a link:\n%s", m.Text)
			}
			if kind == MailEmailChanging && (!strings.Contains(m.Text, d.NewEmail) || !strings.Contains(m.HTML, d.NewEmail)) {
				t.Errorf("the notice does not name the new address")
			}
		})
	}

	// Each call returns templates of its own.
	delete(templates, MailVerifyEmail)
	if _, ok := DefaultMailTemplates()[MailVerifyEmail]; !ok {
		t.Error("DefaultMailTemplates shares its map")
	}
}

// recordingMailer keeps the messages it is given, and fails with err if
// set.
type recordingMailer struct {
	mu   sync.Mutex
	msgs []Message
	err  func(Message) error
}

func (r *recordingMailer) Send(_ context.Context, m Message) error {
	if r.err != nil {
		return r.err(m)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, m)
	return nil
}

func (r *recordingMailer) sent() []Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.msgs)
}

// gateMailer blocks every Send until release is closed, and announces
// each message on entered.
type gateMailer struct {
	recordingMailer
	entered chan Message
	release chan struct{}
}

func newGateMailer() *gateMailer {
	return &gateMailer{entered: make(chan Message, 100), release: make(chan struct{})}
}

func (g *gateMailer) Send(ctx context.Context, m Message) error {
	g.entered <- m
	<-g.release
	return g.recordingMailer.Send(ctx, m)
}

// eventLog collects the events a Service reports through OnEvent.
type eventLog struct {
	mu     sync.Mutex
	events []Event
}

func (l *eventLog) add(_ context.Context, ev Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, ev)
}

// of returns the events of kind.
func (l *eventLog) of(kind EventKind) []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Event
	for _, ev := range l.events {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

// newMailService returns a Service on a fakeStore with cfg, whose
// Logger, unless cfg sets one, discards the records.
func newMailService(t *testing.T, cfg Config) *Service {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return newTestService(t, newFakeStore(), cfg)
}

// shutdown calls s.Shutdown, which waits for the queued mail, failing the
// test on an error.
func shutdown(t *testing.T, s *Service) {
	t.Helper()
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

func TestMailTemplatesOverride(t *testing.T) {
	reset := MailTemplate{
		Subject: texttemplate.Must(texttemplate.New("s").Parse("Réinitialisation pour {{.Name}}")),
		Text:    texttemplate.Must(texttemplate.New("t").Parse("Lien : {{.Link}} ({{.Expires}})")),
		HTML:    htmltemplate.Must(htmltemplate.New("h").Parse(`<a href="{{.Link}}">{{.Name}}</a>`)),
	}
	mailer := &recordingMailer{}
	s := newMailService(t, Config{Mailer: mailer, MailTemplates: map[MailKind]MailTemplate{MailResetPassword: reset}})
	s.sendMail(context.Background(), "u1", testMailData(MailResetPassword))
	s.sendMail(context.Background(), "u1", testMailData(MailVerifyEmail))
	shutdown(t, s)

	sent := mailer.sent()
	if len(sent) != 2 {
		t.Fatalf("%d messages sent, want 2", len(sent))
	}
	bySubject := map[string]Message{}
	for _, m := range sent {
		bySubject[m.Subject] = m
	}
	d := testMailData(MailResetPassword)
	m, ok := bySubject["Réinitialisation pour "+d.Name]
	if !ok {
		t.Fatalf("the override was not used: %v", slices.Collect(maps.Keys(bySubject)))
	}
	if m.Text != "Lien : "+testLink+" (1 hour)" || !strings.HasPrefix(m.HTML, `<a href="`+testLink+`">Zoë &lt;script&gt;`) {
		t.Errorf("override rendered as %+v", m)
	}
	if _, ok := bySubject["Verify your email address"]; !ok {
		t.Errorf("the kind not overridden lost its default template: %v", slices.Collect(maps.Keys(bySubject)))
	}
}

func TestMailTemplatesValidation(t *testing.T) {
	text := func(s string) *texttemplate.Template { return texttemplate.Must(texttemplate.New("x").Parse(s)) }
	html := func(s string) *htmltemplate.Template { return htmltemplate.Must(htmltemplate.New("x").Parse(s)) }
	good := MailTemplate{Subject: text("s"), Text: text("t {{.Link}}"), HTML: html("<p>{{.Link}}</p>")}
	for name, tc := range map[string]struct {
		kind MailKind
		tmpl MailTemplate
	}{
		"unknown kind":        {"welcome", good},
		"no subject":          {MailVerifyEmail, MailTemplate{Text: good.Text, HTML: good.HTML}},
		"no text":             {MailVerifyEmail, MailTemplate{Subject: good.Subject, HTML: good.HTML}},
		"no HTML":             {MailVerifyEmail, MailTemplate{Subject: good.Subject, Text: good.Text}},
		"unknown field":       {MailResetPassword, MailTemplate{Subject: good.Subject, Text: text("{{.Token}}"), HTML: good.HTML}},
		"undefined template":  {MailResetPassword, MailTemplate{Subject: good.Subject, Text: good.Text, HTML: html(`{{template "missing"}}`)}},
		"subject fails":       {MailConfirmEmail, MailTemplate{Subject: text("{{.Email.Nope}}"), Text: good.Text, HTML: good.HTML}},
		"HTML escaping fails": {MailConfirmEmail, MailTemplate{Subject: good.Subject, Text: good.Text, HTML: html(`<a href="{{.Link}}`)}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := New(newFakeStore(), Config{Secret: testSecret, MailTemplates: map[MailKind]MailTemplate{tc.kind: tc.tmpl}})
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), string(tc.kind)) {
				t.Errorf("New: %v, want ErrInvalidConfig naming %s", err, tc.kind)
			}
		})
	}
	if _, err := New(newFakeStore(), Config{Secret: testSecret, MailTemplates: map[MailKind]MailTemplate{MailVerifyEmail: good}}); err != nil {
		t.Errorf("New with a valid override: %v", err)
	}
}

func TestPublicURL(t *testing.T) {
	for in, want := range map[string]string{
		"":                                 "http://localhost:8080",
		"https://app.example.com":          "https://app.example.com",
		"https://app.example.com/":         "https://app.example.com",
		"https://app.example.com/base/":    "https://app.example.com/base",
		"http://127.0.0.1:8080":            "http://127.0.0.1:8080",
		"HTTPS://App.Example.com/My Path/": "https://App.Example.com/My%20Path",
	} {
		s, err := New(newFakeStore(), Config{Secret: testSecret, PublicURL: in})
		if err != nil {
			t.Errorf("PublicURL %q: %v", in, err)
			continue
		}
		if s.publicURL != want {
			t.Errorf("PublicURL %q: links start %q, want %q", in, s.publicURL, want)
		}
	}
	for _, in := range []string{
		"app.example.com",
		"/relative",
		"ftp://app.example.com",
		"javascript:alert(1)",
		"https://",
		"https:app.example.com",
		"https://app.example.com/?a=1",
		"https://app.example.com/?",
		"https://app.example.com/#top",
		"https://app.example.com#",
		"https://user:password@app.example.com",
		"https://app.example.com/\x00",
	} {
		_, err := New(newFakeStore(), Config{Secret: testSecret, PublicURL: in})
		if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "PublicURL") {
			t.Errorf("PublicURL %q: %v, want ErrInvalidConfig naming PublicURL", in, err)
		}
	}
}

// sendVerifications queues n verification mails, to user0@example.com
// (user ID u0) and on.
func sendVerifications(s *Service, n int) {
	for i := range n {
		d := testMailData(MailVerifyEmail)
		d.Email = fmt.Sprintf("user%d@example.com", i)
		s.sendMail(context.Background(), fmt.Sprint("u", i), d)
	}
}

func TestMailQueueDrains(t *testing.T) {
	mailer := &recordingMailer{}
	var events eventLog
	s := newMailService(t, Config{Mailer: mailer, OnEvent: events.add})
	sendVerifications(s, 20)
	shutdown(t, s)
	if n := len(mailer.sent()); n != 20 {
		t.Errorf("%d messages sent, want 20", n)
	}
	sent := events.of(EventMailSent)
	if len(sent) != 20 || len(events.of(EventMailFailed)) != 0 {
		t.Fatalf("events %+v", events.events)
	}
	if ev := sent[0]; ev.Reason != string(MailVerifyEmail) || !strings.HasPrefix(ev.UserID, "u") || !strings.HasSuffix(ev.Email, "@example.com") {
		t.Errorf("sent event %+v", ev)
	}
}

// TestMailQueueBounded fills the queue behind a Mailer that blocks: the
// callers never wait, the queue holds MailQueueSize messages beyond the
// ones in the Mailer's hands, and the rest are recorded as failed.
func TestMailQueueBounded(t *testing.T) {
	const size = 3
	mailer := newGateMailer()
	var events eventLog
	s := newMailService(t, Config{Mailer: mailer, MailQueueSize: size, OnEvent: events.add})
	send := func(i int) {
		d := testMailData(MailResetPassword)
		d.Email = fmt.Sprintf("user%d@example.com", i)
		s.sendMail(context.Background(), "", d)
	}
	// Each of the first mailWorkers messages starts a worker, which takes
	// it and blocks in the Mailer.
	for i := range mailWorkers {
		send(i)
		<-mailer.entered
	}
	for i := range size + 2 {
		send(mailWorkers + i)
	}
	s.mail.mu.Lock()
	queued, running := len(s.mail.buf), s.mail.running
	s.mail.mu.Unlock()
	if queued != size || running != mailWorkers {
		t.Errorf("%d queued, %d workers; want %d and %d", queued, running, size, mailWorkers)
	}
	failed := events.of(EventMailFailed)
	if len(failed) != 2 {
		t.Fatalf("%d failed, want 2: %+v", len(failed), failed)
	}
	for i, ev := range failed {
		want := fmt.Sprintf("user%d@example.com", mailWorkers+size+i)
		if ev.Reason != "reset_password: mail queue full" || ev.Email != want {
			t.Errorf("failed event %+v, want queue full for %s", ev, want)
		}
	}

	close(mailer.release)
	shutdown(t, s)
	if n := len(mailer.sent()); n != mailWorkers+size {
		t.Errorf("%d messages sent, want %d", n, mailWorkers+size)
	}
	if n := len(events.of(EventMailSent)); n != mailWorkers+size {
		t.Errorf("%d sent events, want %d", n, mailWorkers+size)
	}
}

// TestMailQueueSlowHook: an OnEvent hook that is slow to record one
// caller's dropped message holds up no other caller. A call held up
// fails the test after 10 seconds (a call lost, not a slow one), rather
// than hanging until go test's timeout.
func TestMailQueueSlowHook(t *testing.T) {
	const deadline = 10 * time.Second
	mailer := newGateMailer()
	defer close(mailer.release)
	hookEntered, hookRelease := make(chan struct{}), make(chan struct{})
	defer close(hookRelease) // first: frees the hook of a test that failed
	var first atomic.Bool
	s := newMailService(t, Config{Mailer: mailer, MailQueueSize: 1, OnEvent: func(_ context.Context, ev Event) {
		if ev.Kind == EventMailFailed && first.CompareAndSwap(false, true) {
			close(hookEntered)
			<-hookRelease
		}
	}})
	for range mailWorkers {
		s.sendMail(context.Background(), "", testMailData(MailVerifyEmail))
		<-mailer.entered
	}
	s.sendMail(context.Background(), "", testMailData(MailVerifyEmail)) // queued
	go s.sendMail(context.Background(), "", testMailData(MailVerifyEmail))
	select {
	case <-hookEntered:
	case <-time.After(deadline):
		t.Fatalf("after %v, the hook has not been called for the dropped message", deadline)
	}
	// The queue is full and the hook of the other caller blocks: this
	// caller is dropped too, and returns.
	returned := make(chan struct{})
	go func() {
		defer close(returned)
		s.sendMail(context.Background(), "", testMailData(MailVerifyEmail))
	}()
	select {
	case <-returned:
	case <-time.After(deadline):
		t.Fatalf("after %v, sendMail has not returned: another caller's slow OnEvent hook holds it up", deadline)
	}
}

// workers returns the number of goroutines running mail queue workers.
func workers() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return bytes.Count(buf, []byte("auth.(*mailQueue).work("))
}

// waitNoWorkers fails the test unless the mail queue's workers are gone
// within a generous bound.
func waitNoWorkers(t *testing.T) {
	t.Helper()
	for range 10000 {
		if workers() == 0 {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("%d mail workers still running", workers())
}

func TestMailQueueIdle(t *testing.T) {
	waitNoWorkers(t) // none left by other tests
	mailer := newGateMailer()
	s := newMailService(t, Config{Mailer: mailer})
	if n := workers(); n != 0 {
		t.Fatalf("New started %d workers", n)
	}
	for range 10 {
		s.sendMail(context.Background(), "", testMailData(MailVerifyEmail))
	}
	<-mailer.entered
	if workers() == 0 {
		t.Fatal("no worker while mail waits")
	}
	close(mailer.release)
	for range 9 {
		<-mailer.entered
	}
	// Without a Shutdown, the workers end when the queue is empty.
	waitNoWorkers(t)
	if n := len(mailer.sent()); n != 10 {
		t.Errorf("%d messages sent, want 10", n)
	}
}

func TestMailQueueShutdown(t *testing.T) {
	mailer := newGateMailer()
	var events eventLog
	s := newMailService(t, Config{Mailer: mailer, OnEvent: events.add})
	for range 3 {
		s.sendMail(context.Background(), "", testMailData(MailVerifyEmail))
	}
	<-mailer.entered
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Shutdown with mail in the Mailer's hands and ctx done: %v, want context.Canceled", err)
	}
	s.sendMail(context.Background(), "u9", testMailData(MailPasswordChanged))
	failed := events.of(EventMailFailed)
	if len(failed) != 1 || failed[0].Reason != "password_changed: mail queue shut down" || failed[0].UserID != "u9" {
		t.Errorf("mail after Shutdown: %+v", failed)
	}

	close(mailer.release)
	shutdown(t, s)
	if n := len(mailer.sent()); n != 3 {
		t.Errorf("%d messages sent, want the 3 queued before Shutdown", n)
	}
	shutdown(t, s) // again: nothing to wait for
}

// TestMailerError records a failed send without the message's link, even
// when the Mailer's error quotes the message.
func TestMailerError(t *testing.T) {
	mailer := &recordingMailer{err: func(m Message) error {
		return fmt.Errorf("provider said 550 mailbox unavailable; request was %q %q", m.Text, m.HTML)
	}}
	var events eventLog
	var logs bytes.Buffer
	s := newMailService(t, Config{Mailer: mailer, OnEvent: events.add,
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	s.sendMail(context.Background(), "u1", testMailData(MailVerifyEmail))
	shutdown(t, s)

	failed := events.of(EventMailFailed)
	if len(failed) != 1 {
		t.Fatalf("events %+v", events.events)
	}
	ev := failed[0]
	if ev.UserID != "u1" || ev.Email != "ada@example.com" || !strings.HasPrefix(ev.Reason, "verify_email: provider said 550") {
		t.Errorf("failed event %+v", ev)
	}
	const token = "Zm9vYmFyLXRva2VuLXRoYXQtaXMtbG9uZw"
	if strings.Contains(ev.Reason, token) || strings.Contains(logs.String(), token) {
		t.Errorf("the record holds the link: %s\nlog: %s", ev.Reason, logs.String())
	}
	if len(events.of(EventMailSent)) != 0 {
		t.Error("a failed message recorded as sent")
	}
}

// TestMailerPanic: a Mailer that panics costs its message, recorded as
// failed without the panic's value (which may quote the message), and
// neither the process nor the queue: the next messages are sent.
func TestMailerPanic(t *testing.T) {
	var calls atomic.Int32
	mailer := &recordingMailer{}
	mailer.err = func(m Message) error {
		if calls.Add(1) == 1 {
			panic("the provider's client broke on " + m.Text)
		}
		mailer.mu.Lock()
		defer mailer.mu.Unlock()
		mailer.msgs = append(mailer.msgs, m)
		return nil
	}
	var events eventLog
	var logs bytes.Buffer
	s := newMailService(t, Config{Mailer: mailer, OnEvent: events.add, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	sendVerifications(s, 3)
	shutdown(t, s)
	if n := len(mailer.sent()); n != 2 {
		t.Errorf("%d messages sent after the Mailer panicked once, want 2", n)
	}
	failed := events.of(EventMailFailed)
	if len(failed) != 1 || len(events.of(EventMailSent)) != 2 {
		t.Fatalf("events %+v; want 1 mail_failed and 2 mail_sent", events.events)
	}
	if ev := failed[0]; ev.Reason != "verify_email: the mail job panicked" || ev.UserID == "" || ev.Email == "" {
		t.Errorf("failed event %+v; want the reason \"verify_email: the mail job panicked\", with the user and address", ev)
	}
	if !strings.Contains(logs.String(), "TestMailerPanic") {
		t.Errorf("the log has no stack of the panic: %s", logs.String())
	}
	if strings.Contains(logs.String(), "broke on") {
		t.Errorf("the log holds the panic's value, which quotes the message: %s", logs.String())
	}
}

func TestSendMailWithoutMailer(t *testing.T) {
	var events eventLog
	s := newMailService(t, Config{OnEvent: events.add})
	s.sendMail(context.Background(), "u1", testMailData(MailVerifyEmail)) // no panic, nothing sent
	if len(events.events) != 0 {
		t.Errorf("events %+v", events.events)
	}
	shutdown(t, s)
}
