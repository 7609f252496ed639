'use strict';
'require view';
'require rpc';
'require poll';

// Services -> nodekeeper -> Status: what the running agent reports through
// the rpcd plugin /usr/libexec/rpcd/nodekeeper (package nodekeeper).

var callStatus = rpc.declare({ object: 'nodekeeper', method: 'status', expect: {} });
var callSlivers = rpc.declare({ object: 'nodekeeper', method: 'sliver_list', expect: {} });
var callPolicies = rpc.declare({ object: 'nodekeeper', method: 'policy_list', expect: {} });
var callSample = rpc.declare({ object: 'nodekeeper', method: 'telemetry_sample', expect: {} });

// loadAll answers the four calls; a failed call is an {error} object.
function loadAll() {
	var fail = function(err) { return { error: String(err) }; };
	return Promise.all([
		callStatus().catch(fail),
		callSlivers().catch(fail),
		callPolicies().catch(fail),
		callSample().catch(fail)
	]);
}

function text(v) {
	return (v === undefined || v === null || v === '') ? '-' : String(v);
}

// when formats an RFC 3339 time of the agent; the zero time is '-'.
function when(t) {
	if (!t || /^0001-/.test(t))
		return '-';
	var d = new Date(t);
	return isNaN(d) ? String(t) : d.toLocaleString();
}

// duration formats nanoseconds (Go's time.Duration in JSON).
function duration(ns) {
	if (!ns)
		return '';
	var s = ns / 1e9;
	return s >= 60 && s % 60 == 0 ? (s / 60) + 'm' : s + 's';
}

function errorBox(what, obj) {
	return E('div', { 'class': 'alert-message warning' }, [
		E('strong', {}, [ what + ': ' ]), text(obj.error)
	]);
}

function table(headers, rows, empty) {
	var t = E('table', { 'class': 'table' }, [
		E('tr', { 'class': 'tr table-titles' }, headers.map(function(h) {
			return E('th', { 'class': 'th' }, [ h ]);
		}))
	]);
	rows.forEach(function(r) {
		t.appendChild(E('tr', { 'class': 'tr' }, r.map(function(c) {
			return E('td', { 'class': 'td' }, [ c ]);
		})));
	});
	if (!rows.length)
		t.appendChild(E('tr', { 'class': 'tr placeholder' }, [
			E('td', { 'class': 'td', 'colspan': headers.length }, [ E('em', {}, [ empty ]) ])
		]));
	return t;
}

function renderNode(st) {
	if (st.error)
		return errorBox(_('Agent'), st);
	var conn = st.connected ? _('connected') : _('not connected');
	if (!st.connected && st.broker_error)
		conn += ': ' + st.broker_error;
	var rows = [
		[ _('Node'), text(st.node) ],
		[ _('Node state'), text(st.node_state) ],
		[ _('Agent'), _('pid %s, started %s').format(text(st.pid), when(st.started)) ],
		[ _('MQTT broker'), text(st.broker) + ' (' + conn + ')' ],
		[ _('Desired document'), _('applied seq %s, last seen %s').format(text(st.applied_seq), text(st.seen_seq)) ],
		[ _('Policies'), _('%s loaded, %s quarantined').format(
			text(st.policies ? st.policies.loaded : 0), text(st.policies ? st.policies.quarantined : 0)) ]
	];
	var t = E('table', { 'class': 'table' });
	rows.forEach(function(r) {
		t.appendChild(E('tr', { 'class': 'tr' }, [
			E('td', { 'class': 'td left', 'width': '33%' }, [ r[0] ]),
			E('td', { 'class': 'td left' }, [ r[1] ])
		]));
	});
	var out = [ t ];
	if (st.errors && st.errors.length)
		out.push(E('h3', {}, [ _('Errors') ]), table([ _('Time'), _('Part'), _('Message') ],
			st.errors.map(function(e) { return [ when(e.time), text(e.member), text(e.message) ]; }), ''));
	return E('div', {}, out);
}

function renderSlivers(sl) {
	if (sl.error)
		return errorBox(_('Slivers'), sl);
	return table([ _('Name'), _('Slice'), _('ID'), _('State'), _('Requested'), _('Error') ],
		(sl.slivers || []).map(function(s) {
			return [ text(s.name), text(s.slice), text(s.id), text(s.state), text(s.set_state), text(s.error) ];
		}), _('No slivers'));
}

function renderPolicies(pl) {
	if (pl.error)
		return errorBox(_('Policies'), pl);
	return table([ _('Name'), _('Trigger'), _('Priority'), _('Failures'), _('State'), _('Last decision') ],
		(pl.policies || []).map(function(p) {
			var state = _('ok');
			if (p.quarantined_until && new Date(p.quarantined_until) > new Date())
				state = _('quarantined until %s').format(when(p.quarantined_until));
			else if (p.dry_run)
				state = _('dry-run');
			var last = p.last_decision;
			var decision = last ? (when(last.time) + ': ' + (last.error || (last.actions || []).map(function(a) {
				return text(a.action) + ' ' + text(a.result);
			}).join('; ') || _('no action'))) : '-';
			return [ text(p.name), p.every ? _('every %s').format(duration(p.every)) : _('on %s').format(text(p.on)),
				text(p.priority), text(p.failures), state, decision ];
		}), _('No policies loaded'));
}

function renderSample(s) {
	if (s.error)
		return errorBox(_('Telemetry'), s);
	return E('pre', { 'style': 'max-height:30em;overflow:auto' }, [ JSON.stringify(s, null, 2) ]);
}

return view.extend({
	load: loadAll,

	render: function(data) {
		var box = E('div', {});
		var draw = function(d) {
			box.replaceChildren(
				E('h3', {}, [ _('Node') ]), renderNode(d[0]),
				E('h3', {}, [ _('Slivers') ]), renderSlivers(d[1]),
				E('h3', {}, [ _('Policies') ]), renderPolicies(d[2]),
				E('h3', {}, [ _('Last telemetry sample') ]), renderSample(d[3]));
		};
		draw(data);
		poll.add(function() { return loadAll().then(draw); }, 10);
		return E('div', { 'class': 'cbi-map' }, [
			E('h2', {}, [ _('nodekeeper') ]),
			E('div', { 'class': 'cbi-map-descr' }, [ _('The node agent as it runs now; refreshed every 10 seconds.') ]),
			box
		]);
	},

	handleSave: null,
	handleSaveApply: null,
	handleReset: null
});
