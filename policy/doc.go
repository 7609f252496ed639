// Package policy runs node-centric policies that network admins write in Lua:
// it loads and sandboxes them, schedules their evaluation under time and
// memory budgets, resolves conflicting decisions and logs every firing.
package policy
