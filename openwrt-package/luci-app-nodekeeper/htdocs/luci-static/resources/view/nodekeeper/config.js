'use strict';
'require view';
'require form';

// Services -> nodekeeper -> Configuration: the main options of
// /etc/config/nodekeeper (docs/config.md). Save & Apply commits the config;
// the init script's reload trigger then has the agent re-read it (SIGHUP),
// and the agent refuses an invalid config and keeps the running one.

// duration: the agent's durations, "30" (seconds) or Go's "30s", "1m30s".
function duration(section_id, value) {
	if (value == '' || /^[0-9]+$/.test(value) || /^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$/.test(value))
		return true;
	return _('Expecting a duration like 30s, 1m or a number of seconds');
}

function broker(section_id, value) {
	if (value == '' || /^(tcp|mqtt|ssl|tls|mqtts):\/\/[^\s\/]+$/.test(value))
		return true;
	return _('Expecting tcp://HOST:PORT (or ssl://, tls://, mqtt://, mqtts://)');
}

// trustedKey: the base64 line of a usign public key (nodekeeper keygen).
function trustedKey(section_id, value) {
	if (value == '' || /^[A-Za-z0-9+\/]{40,}={0,2}$/.test(value))
		return true;
	return _('Expecting the base64 line of a usign .pub file');
}

function unmanaged(section_id, value) {
	if (value == '' || /^(slivers|policies|[a-z_][a-z0-9_]*(\.[a-z0-9_]+)?|slice:[a-z0-9-]+|policy:[A-Za-z0-9_.-]+)$/.test(value))
		return true;
	return _('Expecting SECTION, SECTION.OPTION, slice:NAME, slivers, policies or policy:FILE');
}

return view.extend({
	render: function() {
		var m, s, o;

		m = new form.Map('nodekeeper', _('nodekeeper'),
			_('The main settings of the node agent. Every option and its default: docs/config.md.'));

		s = m.section(form.NamedSection, 'agent', 'agent', _('Node'));
		o = s.option(form.ListValue, 'node_state', _('Node state'),
			_('production runs every sliver; safe stops them; debug keeps them stopped for inspection.'));
		o.value('production');
		o.value('safe');
		o.value('debug');
		o.default = 'production';

		s = m.section(form.NamedSection, 'telemetry', 'telemetry', _('Telemetry'));
		o = s.option(form.Value, 'broker', _('MQTT broker'));
		o.placeholder = 'tcp://127.0.0.1:1883';
		o.validate = broker;
		o = s.option(form.Value, 'interval', _('Sampling interval'));
		o.placeholder = '30s';
		o.validate = duration;

		s = m.section(form.NamedSection, 'remote', 'remote', _('Remote management'));
		o = s.option(form.DynamicList, 'trusted_key', _('Trusted keys'),
			_('usign public keys whose signed documents the node accepts; none: nothing is accepted.'));
		o.validate = trustedKey;
		o = s.option(form.DynamicList, 'unmanaged', _('Unmanaged'),
			_('What remote documents may not change.'));
		o.validate = unmanaged;

		return m.render();
	}
});
