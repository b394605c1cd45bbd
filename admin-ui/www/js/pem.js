// What the certificate and CA bundle sections of the Certificates page
// share: a picked PEM file fills its textarea (the uploads send text, not
// files), and the validity badge from the API's expiry fields
// (adm_cert_annotate: expired, not_yet_valid, expiring_soon 30 days ahead).
import { badge, fmtTime } from './dom.js';

/* The file chosen in input, as text, into form's textarea target. */
export function fileInto(form, input, target) {
  const f = input.files && input.files[0];
  if (!f) return;
  f.text().then((t) => { form.elements[target].value = t; });
}

export function validity(c) {
  if (c.expired) return badge('expired', 'err');
  if (c.not_yet_valid) return badge('not yet valid', 'warn');
  if (c.expiring_soon) return badge('expires soon', 'warn');
  return badge('valid', 'ok');
}

export function day(t) { return fmtTime(t).slice(0, 10); }

export function daysLeft(c) {
  return c.days_to_expiry >= 0 ? c.days_to_expiry + ' days left' : 'expired ' + -c.days_to_expiry + ' days ago';
}
