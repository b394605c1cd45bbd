// Shared client state: the logged-in user, the last status, the candidate
// objects and the field errors of the last refused apply.
import { parseField } from './dom.js';

export const state = {
  user: null,            // {username, role}
  status: null,          // GET /status
  listeners: [],
  pools: [],
  routes: [],
  applyErrors: [],       // [{field, path, message, parsed}] from the last refused apply
};

export function setApplyErrors(errors) {
  state.applyErrors = (errors || []).map((e) => ({ ...e, parsed: parseField(e.field) }));
}

/* Errors of the last refused apply that concern one object (and, for
 * pools, optionally one member: member === undefined means any). */
export function applyErrorsFor(kind, name, member) {
  return state.applyErrors.filter((e) => {
    const p = e.parsed;
    if (!p || p.kind !== kind || p.name !== name) return false;
    if (member === undefined) return true;
    return p.member === member;
  });
}
