// Session ticket keys of the running tandemd (GET /tls/ticket-keys) and the
// "Rotate ticket keys now" action (POST /tls/rotate-keys). Not part of the
// candidate: the rotation happens at once. No key material ever comes here.
import { api } from './api.js';
import { $, setAlert, describeError, notify, fmtTime } from './dom.js';
import { withButton } from './crud.js';

export function init() {
  $('#ticket-keys-rotate').addEventListener('click', rotate);
}

function describe(k) {
  const life = k.lifetime_s === 0 ? 'rotated only on command'
    : 'lifetime ' + k.lifetime_s + ' s, next rotation ' + fmtTime(k.next_rotation);
  return k.keys + (k.keys === 1 ? ' key' : ' keys') + ' held; current key made ' +
    fmtTime(k.current_created) + '; ' + life + ' (from the ' + (k.lifetime_from || 'command line') + ')';
}

export async function load() {
  setAlert($('#ticket-keys-error'), '');
  try {
    $('#ticket-keys-info').textContent = describe(await api.ticketKeys());
  } catch (e) {
    $('#ticket-keys-info').textContent = '—';
    setAlert($('#ticket-keys-error'), 'Could not read the ticket keys: ' + describeError(e));
  }
}

async function rotate() {
  setAlert($('#ticket-keys-error'), '');
  await withButton($('#ticket-keys-rotate'), async () => {
    const k = await api.rotateTicketKeys();
    $('#ticket-keys-info').textContent = describe(k);
    notify('Ticket key rotated: the current key was made ' + fmtTime(k.current_created) +
      '; tickets under the older keys still resume.');
  }, (e) => setAlert($('#ticket-keys-error'), 'Could not rotate the ticket keys: ' + describeError(e)));
}
