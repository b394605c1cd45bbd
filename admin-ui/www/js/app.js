// Tandem console entry point: session handling, navigation, status banner.
import { api, setCsrfToken, onUnauthorized } from './api.js';
import { $, $$, setAlert, notify, hideNotice } from './dom.js';
import { state } from './state.js';
import { addFieldErrors } from './crud.js';
import * as dashboard from './dashboard.js';
import * as listeners from './listeners.js';
import * as pools from './pools.js';
import * as routes from './routes.js';
import * as changes from './changes.js';
import * as revisions from './revisions.js';
import * as certificates from './certificates.js';
import * as vrrp from './vrrp.js';
import * as limits from './limits.js';
import * as l4 from './l4.js';
import * as l4fw from './l4fw.js';
import * as pair from './pair.js';

const VIEWS = { dashboard, listeners, pools, routes, certificates, l4, l4fw, vrrp, pair, limits, changes, revisions };
let current = null;
let statusTimer = null;

function showLogin(message) {
  state.user = null;
  setCsrfToken(null);
  clearInterval(statusTimer);
  $('#boot').hidden = true;
  $('#app-view').hidden = true;
  $('#login-view').hidden = false;
  $('#login-error').className = 'alert alert-error';
  setAlert($('#login-error'), message || '');
  const pw = $('#login-password');
  pw.value = '';
  ($('#login-username').value ? pw : $('#login-username')).focus();
}

function showApp(session) {
  state.user = { username: session.username, role: session.role };
  setCsrfToken(session.csrf_token);
  $('#user-name').textContent = session.username + (session.role ? ' (' + session.role + ')' : '');
  // accounts other than admin may only read: the server refuses their edits
  // with 403, so the console does not offer them
  const readOnly = !!session.role && session.role !== 'admin';
  document.body.classList.toggle('readonly', readOnly);
  $('#readonly-banner').hidden = !readOnly;
  $('#boot').hidden = true;
  $('#login-view').hidden = true;
  $('#app-view').hidden = false;
  clearInterval(statusTimer);
  statusTimer = setInterval(() => { if (!document.hidden) refreshStatus(); }, 10000);
  route();
}

async function onLogin(ev) {
  ev.preventDefault();
  const err = $('#login-error');
  const btn = $('#login-submit');
  setAlert(err, '');
  const username = $('#login-username').value.trim();
  const password = $('#login-password').value;
  if (!username || !password) {
    setAlert(err, 'Enter your username and password.');
    return;
  }
  btn.disabled = true;
  btn.textContent = 'Logging in…';
  try {
    const s = await api.login(username, password);
    $('#login-password').value = '';
    showApp(s);
  } catch (e) {
    if (e.status === 401) {
      setAlert(err, 'Wrong username or password.');
    } else if (e.status === 429) {
      const secs = parseInt(e.retryAfter, 10);
      setAlert(err, 'Too many failed attempts. Try again in ' +
        (Number.isFinite(secs) ? secs + ' second' + (secs === 1 ? '' : 's') : 'a while') + '.');
    } else {
      setAlert(err, 'Login failed: ' + e.message);
    }
    $('#login-password').select();
  } finally {
    btn.disabled = false;
    btn.textContent = 'Log in';
  }
}

async function onLogout() {
  try { await api.logout(); } catch { /* the session is gone either way */ }
  showLogin('You have logged out.');
  history.replaceState(null, '', location.pathname);
  $('#login-error').className = 'alert alert-ok';
}

/* Fetch /status and update the header, banners and, if shown, the dashboard. */
export async function refreshStatus() {
  if (!state.user) return;
  try {
    state.status = await api.status();
  } catch (e) {
    if (e.status === 401) return;
    state.status = null;
  }
  const s = state.status;
  $('#node-hostname').textContent = s && s.node ? s.node.hostname || '' : '';
  const changed = !!(s && s.candidate_changed);
  $('#candidate-banner').hidden = !changed || current === 'changes';
  $('#nav-changes-badge').hidden = !changed;
  $('#daemon-banner').hidden = !(s && s.tandemd && s.tandemd.reachable === false);
  if (current === 'dashboard') dashboard.renderStatus();
  pair.refreshBanner();
}

function route() {
  if (!state.user) return;
  const name = (location.hash || '').replace(/^#/, '');
  go(VIEWS[name] ? name : 'dashboard', false);
}

/* Show a view and load its data. */
export async function go(name, setHash = true) {
  if (setHash && location.hash !== '#' + name) history.replaceState(null, '', '#' + name);
  if (current !== name) hideNotice();
  current = name;
  for (const v of Object.keys(VIEWS)) $('#view-' + v).hidden = v !== name;
  for (const a of $$('#nav a')) a.classList.toggle('active', a.dataset.view === name);
  if (name === 'changes') $('#candidate-banner').hidden = true;
  document.title = 'Tandem · ' + ({ vrrp: 'HA', pair: 'Pairing', l4: 'L4', l4fw: 'L4 firewall', limits: 'Rate rules' }[name] || name[0].toUpperCase() + name.slice(1));
  await Promise.all([VIEWS[name].load(), name === 'dashboard' ? null : refreshStatus()]);
}

async function boot() {
  addFieldErrors();
  $('#login-form').addEventListener('submit', onLogin);
  $('#logout-button').addEventListener('click', onLogout);
  window.addEventListener('hashchange', route);
  for (const v of Object.values(VIEWS)) v.init();
  onUnauthorized(() => {
    if (state.user) showLogin('Your session has expired. Log in again.');
  });
  try {
    const s = await api.session();
    showApp(s);
  } catch (e) {
    showLogin(e.status === 401 ? '' : 'Cannot check the session: ' + e.message);
  }
}

$('#login-form').addEventListener('input', () => {
  const err = $('#login-error');
  if (err.classList.contains('alert-ok')) { err.className = 'alert alert-error'; err.hidden = true; }
});

boot().catch((e) => { notify('Console failed to start: ' + e.message, true); });
