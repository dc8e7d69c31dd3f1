// The demo page's script: it drives the JSON API under /api/user with
// fetch. The server keeps the session in HttpOnly cookies, which the
// browser sends with each same-origin request; no token is ever held in
// this script, in storage, or in the page.
'use strict';

const api = '/api/user';

// ApiError is a refused request: the problem details' "detail" and
// "field" when the server sent them, a plain sentence otherwise.
class ApiError extends Error {
  constructor(status, detail, field) {
    super(detail);
    this.status = status;
    this.field = field || '';
  }
}

// call sends a request to the API and returns its JSON body, or null
// when it has none. It throws an ApiError when the server refuses.
async function call(method, path, body) {
  const init = {method, credentials: 'same-origin', headers: {Accept: 'application/json'}};
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(api + path, init);
  } catch {
    throw new ApiError(0, 'The server cannot be reached. Check the connection and try again.');
  }
  let data = null;
  if (/json/.test(res.headers.get('Content-Type') || '')) {
    data = await res.json().catch(() => null);
  }
  if (res.ok) {
    return data;
  }
  let detail = data && typeof data.detail === 'string' && data.detail !== '' ? data.detail
    : `The server answered ${res.status}${res.statusText ? ' ' + res.statusText : ''}.`;
  const retry = res.headers.get('Retry-After');
  if (retry && /^\d+$/.test(retry)) {
    detail += ` Try again in ${retry} s.`;
  }
  throw new ApiError(res.status, sentence(detail), data && typeof data.field === 'string' ? data.field : '');
}

// sentence starts s with a capital letter.
function sentence(s) {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

const $ = (id) => document.getElementById(id);

// say shows a message in the page's status line, which assistive
// technology reads out.
function say(text) {
  const status = $('status');
  status.textContent = text;
  status.hidden = text === '';
}

// clearErrors removes the error messages of a form.
function clearErrors(form) {
  form.querySelector('.form-error').textContent = '';
  for (const input of form.querySelectorAll('input')) {
    input.removeAttribute('aria-invalid');
    const err = $(input.id + '-error');
    if (err) {
      err.hidden = true;
      err.textContent = '';
      input.setAttribute('aria-describedby', describedBy(input).join(' '));
    }
  }
}

// describedBy returns the ids that describe input other than its error.
function describedBy(input) {
  return (input.getAttribute('aria-describedby') || '').split(' ')
    .filter((id) => id !== '' && id !== input.id + '-error');
}

// showError shows err in form: next to the field it names, when the form
// has that field, and otherwise above the form's button.
function showError(form, err) {
  const text = err instanceof ApiError ? err.message : 'Something went wrong on this page.';
  const input = err instanceof ApiError && err.field !== '' ? form.querySelector(`input[name="${CSS.escape(err.field)}"]`) : null;
  const msg = input && $(input.id + '-error');
  if (msg) {
    msg.textContent = text;
    msg.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', [...describedBy(input), msg.id].join(' '));
    input.focus();
    return;
  }
  form.querySelector('.form-error').textContent = text;
}

// onSubmit runs action with the form's values when form is submitted,
// with its button disabled meanwhile, and shows what the server refused.
function onSubmit(id, action) {
  const form = $(id);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    say('');
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    form.setAttribute('aria-busy', 'true');
    try {
      await action(Object.fromEntries(new FormData(form)), form);
    } catch (err) {
      showError(form, err);
    } finally {
      button.disabled = false;
      form.removeAttribute('aria-busy');
    }
  });
}

// The state of the page: the one-time token of the mailed link that
// opened it, and the short-lived token of a login waiting for its
// second factor. Neither is a session token.
let linkToken = '';
let mfaToken = '';

// show displays the signed-in view with me, the body of GET /me, or the
// signed-out view when me is null.
function show(me) {
  $('signed-in').hidden = me === null;
  $('signed-out').hidden = me !== null;
  $('mfa-step').hidden = true;
  mfaToken = '';
  if (me === null) {
    return;
  }
  $('me-name').textContent = me.userName;
  $('me-email').textContent = me.email;
  $('me-verified').textContent = me.emailVerified ? 'Yes' : 'No';
  $('me-mfa').textContent = me.mfa ? 'On' : 'Off';
  const created = new Date(me.createdAt);
  $('me-created').textContent = isNaN(created) ? '' : created.toLocaleDateString();
  $('resend-form').hidden = me.emailVerified;
  $('totp-setup-form').hidden = me.mfa || !$('totp-enrol').hidden;
  $('totp-disable-form').hidden = !me.mfa;
}

// refresh asks the server who is signed in and shows it.
async function refresh() {
  try {
    show(await call('GET', '/me'));
  } catch (err) {
    show(null);
    if (!(err instanceof ApiError) || err.status !== 401) { // 401: nobody is
      say(err instanceof ApiError ? err.message : 'Something went wrong on this page.');
    }
  }
}

// signedIn moves on after a login, sign-up or second factor: to the
// second factor if the server asks for one, else to the account.
async function signedIn(body, form) {
  if (body && body.mfaRequired === true) {
    mfaToken = body.mfaToken;
    $('signed-out').hidden = true;
    $('mfa-step').hidden = false;
    say('Enter the code from your authenticator app.');
    $('mfa-code').focus();
    return;
  }
  form.reset();
  await refresh();
  say('You are logged in.');
  $('me-title').focus();
}

onSubmit('signup-form', async (v, form) => {
  await call('POST', '/signup', {name: v.name, email: v.email, password: v.password});
  await signedIn(null, form);
  say('Welcome! We have mailed you a link to verify your email address.');
});

onSubmit('login-form', async (v, form) => {
  await signedIn(await call('POST', '/login', {email: v.email, password: v.password}), form);
});

onSubmit('mfa-form', async (v, form) => {
  await call('POST', '/login/mfa', {mfaToken, code: v.code});
  await signedIn(null, form);
});

onSubmit('mfa-recovery-form', async (v, form) => {
  await call('POST', '/login/mfa', {mfaToken, recoveryCode: v.recoveryCode});
  await signedIn(null, form);
});

$('mfa-cancel').addEventListener('click', () => {
  show(null);
  say('');
  $('login-email').focus();
});

onSubmit('forgot-form', async (v, form) => {
  await call('POST', '/password/forgot', {email: v.email});
  form.reset();
  say('If an account uses that address, a link to reset its password is on its way.');
});

onSubmit('verify-form', async () => {
  await call('POST', '/email/verify', {token: linkToken});
  linkToken = '';
  $('link-verify').hidden = true;
  await refresh();
  say('Your email address is verified.');
});

onSubmit('confirm-email-form', async () => {
  await call('POST', '/email/change/confirm', {token: linkToken});
  linkToken = '';
  $('link-confirm').hidden = true;
  await refresh();
  say('Your email address is changed.');
});

onSubmit('reset-form', async (v, form) => {
  await call('POST', '/password/reset', {token: linkToken, password: v.password});
  linkToken = '';
  form.reset();
  $('link-reset').hidden = true;
  await refresh();
  say('Your password is changed. Log in with the new one.');
  $('login-email').focus();
});

onSubmit('resend-form', async () => {
  await call('POST', '/email/verify/resend');
  say('A new verification link is on its way.');
});

onSubmit('totp-setup-form', async (v, form) => {
  const setup = await call('POST', '/mfa/totp/setup', {password: v.password});
  form.reset();
  if (typeof setup.qrCode === 'string' && setup.qrCode.startsWith('data:image/png;base64,')) {
    $('totp-qr').src = setup.qrCode;
  }
  $('totp-secret').textContent = setup.secret;
  $('totp-recovery').hidden = true;
  $('totp-enrol').hidden = false;
  form.hidden = true;
  $('totp-confirm-code').focus();
});

onSubmit('totp-confirm-form', async (v, form) => {
  const {recoveryCodes} = await call('POST', '/mfa/totp/confirm', {code: v.code});
  form.reset();
  const list = $('recovery-codes');
  list.replaceChildren(...recoveryCodes.map((c) => {
    const li = document.createElement('li');
    li.textContent = c;
    return li;
  }));
  $('totp-enrol').hidden = true;
  $('totp-qr').removeAttribute('src');
  $('totp-secret').textContent = '';
  $('totp-recovery').hidden = false;
  await refresh();
  say('Two-factor authentication is on.');
});

onSubmit('totp-disable-form', async (v, form) => {
  await call('POST', '/mfa/disable', {password: v.password, code: v.code});
  form.reset();
  $('totp-recovery').hidden = true;
  await refresh();
  say('Two-factor authentication is off.');
});

onSubmit('change-email-form', async (v, form) => {
  await call('POST', '/email/change', {newEmail: v.newEmail, password: v.password});
  form.reset();
  say('We have mailed a link to the new address. The change takes effect when you follow it.');
});

onSubmit('logout-form', async () => {
  try {
    await call('POST', '/logout', {});
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) {
      throw err;
    }
  }
  $('totp-enrol').hidden = true;
  $('totp-recovery').hidden = true;
  $('recovery-codes').replaceChildren();
  show(null);
  say('You are logged out.');
  $('login-email').focus();
});

// The pages of the mailed links: the page takes the token from the
// address, then drops it from the address bar and the history.
const links = {'/verify-email': 'link-verify', '/reset-password': 'link-reset', '/confirm-email': 'link-confirm'};
const linkSection = links[location.pathname];
if (linkSection) {
  linkToken = new URLSearchParams(location.search).get('token') || '';
  history.replaceState(null, '', '/');
  if (linkToken === '') {
    say('The link has no token. Copy the whole link from the mail.');
  } else {
    $(linkSection).hidden = false;
  }
}
refresh();
