/*
 * The Exalate application's server side, a script include its Scripted REST API's resources call
 * (`new ExalateApi().handle('GET', 'settings', request, response)`). Runs in the instance as the
 * signed-in user of the Exalate page:
 *   GET  settings          the node this instance is paired with
 *   POST pair              trades the node operator's one-time pairing code for the instance's key
 *   *    node?path=        forwards one call of the node's admin API, with the instance's key
 *   GET  published-node    (no sign-in) the node, for partners who enter this instance's URL
 * Every resource but published-node needs the x_exalate_sync.admin role (the REST API's ACL checks it
 * first; this script again). The key lives in the application's settings table, in an encrypted
 * (password2) column, and never reaches a browser. Plain ES5, as every instance runs it.
 */
var ExalateApi = Class.create();
ExalateApi.prototype = {
  initialize: function () {},

  /** One call of a resource: `verb` is the resource's HTTP method, `action` its path. */
  handle: function (verb, action, request, response) {
    var ROLE = 'x_exalate_sync.admin';
    var SETTINGS = 'x_exalate_sync_setting';
    var MAX_BODY = 1048576;

    function send(status, body) {
      response.setStatus(status);
      response.setContentType('application/json');
      response.getStreamWriter().writeString(typeof body === 'string' ? body : JSON.stringify(body));
    }
    function fail(status, code, message) {
      send(status, { error: { code: code, message: message } });
    }
    function instanceUrl() {
      return String(gs.getProperty('glide.servlet.uri') || '').replace(/\/+$/, '');
    }
    function setting(name) {
      var gr = new GlideRecord(SETTINGS);
      gr.addQuery('name', name);
      gr.query();
      return gr.next() ? gr : null;
    }
    function settingValue(name) {
      var gr = setting(name);
      return gr ? String(gr.getValue('value') || '') : '';
    }
    function putSetting(name, value, secret) {
      var gr = setting(name);
      if (!gr) {
        gr = new GlideRecord(SETTINGS);
        gr.initialize();
        gr.setValue('name', name);
      }
      if (secret) gr.setValue('secret', value);
      else gr.setValue('value', value);
      gr.update();
    }
    function secretValue(name) {
      var gr = setting(name);
      return gr ? String(gr.secret.getDecryptedValue() || '') : '';
    }
    /** `EXPAIR1.<base64url node URL>.<id>.<secret>` → the node URL, or ''. */
    function nodeUrlOf(code) {
      var parts = String(code).split('.');
      if (parts.length !== 4 || parts[0] !== 'EXPAIR1' || !/^[A-Za-z0-9_-]{1,2000}$/.test(parts[1])) return '';
      var b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
      while (b64.length % 4) b64 += '=';
      var url = String(gs.base64Decode(b64) || '');
      return /^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/.test(url) ? url.replace(/\/+$/, '') : '';
    }
    function call(method, url, headers, body) {
      var message = new sn_ws.RESTMessageV2();
      message.setEndpoint(url);
      message.setHttpMethod(method);
      message.setHttpTimeout(30000);
      message.setRequestHeader('Accept', 'application/json');
      for (var name in headers) message.setRequestHeader(name, headers[name]);
      if (body !== null) {
        message.setRequestHeader('Content-Type', 'application/json');
        message.setRequestBody(body);
      }
      var answer = message.execute();
      return {
        status: answer.getStatusCode(),
        body: String(answer.getBody() || ''),
        error: answer.getStatusCode() === 0 ? String(answer.getErrorMessage() || 'no answer') : ''
      };
    }
    function parse(text) {
      try {
        return JSON.parse(text);
      } catch (e) {
        return null;
      }
    }

    if (action === 'published-node') {
      var published = settingValue('node_url');
      if (!published)
        return fail(
          404,
          'TRACKER_APP_NOT_PAIRED',
          "The Exalate application in this instance is not paired with a node yet. Enter the partner's Exalate URL instead, or ask its admin to pair the application."
        );
      return send(200, { product: 'exalate', nodeUrl: published });
    }

    if (!gs.hasRole(ROLE)) {
      return fail(
        403,
        'TRACKER_ADMIN_REQUIRED',
        'Only users with the ' + ROLE + ' role can manage Exalate (administrators have it). Ask an administrator to grant it.'
      );
    }

    if (action === 'settings') {
      var nodeUrl = settingValue('node_url');
      response.setStatus(200);
      return response.setBody({ nodeUrl: nodeUrl || null, pairedAt: settingValue('paired_at') || null, pairedBy: settingValue('paired_by') || null });
    }

    if (action === 'pair') {
      var text = String(request.body.dataString || '');
      if (text.length > 8192)
        return fail(413, 'REQUEST_TOO_LARGE', 'A pairing call is a few hundred characters; this one is larger. Paste the pairing code alone.');
      var asked = parse(text);
      var code = asked && typeof asked.pairingCode === 'string' ? asked.pairingCode.replace(/^\s+|\s+$/g, '') : '';
      var target = code ? nodeUrlOf(code) : '';
      if (!target)
        return fail(
          400,
          'PAIRING_CODE_INVALID',
          'This is not a whole pairing code: it starts with EXPAIR1. and has four parts separated by dots. Copy it again from the node, in one piece.'
        );
      var paired = call('post', target + '/api/v1/tracker-app/pair', {}, JSON.stringify({ pairingCode: code, trackerBaseUrl: instanceUrl() }));
      if (paired.status === 0)
        return fail(
          502,
          'TRACKER_APP_NODE_UNREACHABLE',
          'The instance could not reach the Exalate node at ' +
            target +
            ' (' +
            paired.error +
            '). Check that the instance can reach that address (a MID server or the firewall may be needed), then try again.'
        );
      var reply = parse(paired.body);
      if (paired.status !== 200 || !reply || typeof reply.key !== 'string') {
        // The node's own refusal (expired, used, another instance) says best what to do.
        if (reply && reply.error && typeof reply.error.code === 'string') return send(paired.status >= 400 && paired.status < 600 ? paired.status : 502, reply);
        return fail(
          502,
          'TRACKER_APP_NODE_UNREACHABLE',
          'The address in the pairing code (' +
            target +
            ') answered HTTP ' +
            paired.status +
            ", not as an Exalate node. Ask the node's operator for a new pairing code."
        );
      }
      putSetting('node_url', target, false);
      putSetting('key', reply.key, true);
      putSetting('paired_at', new Date().toISOString(), false);
      putSetting('paired_by', gs.getUserName(), false);
      response.setStatus(200);
      return response.setBody({ nodeUrl: target });
    }

    if (action === 'node') {
      var node = settingValue('node_url');
      var key = secretValue('key');
      if (!node || !key)
        return fail(
          409,
          'TRACKER_APP_NOT_PAIRED',
          "The Exalate application is not paired with a node yet. Open All → Exalate → Settings and paste the pairing code from the node's operator."
        );
      var path = request.queryParams.path ? String(request.queryParams.path[0]) : '';
      // Only the node's admin API, by a plain path: no other host, no way out of /api/v1.
      if (!/^\/[A-Za-z0-9\-._~/%]*(\?[A-Za-z0-9\-._~%&=+,:]*)?$/.test(path) || path.indexOf('..') !== -1 || path.indexOf('//') !== -1) {
        return fail(400, 'VALIDATION_FAILED', "The path to forward must be one of the node's admin API paths, such as /connections. Reload the Exalate page.");
      }
      var payload = verb === 'POST' || verb === 'PUT' ? String(request.body.dataString || '') : null;
      if (payload !== null && payload.length > MAX_BODY)
        return fail(413, 'REQUEST_TOO_LARGE', "This request is larger than the node's admin API takes (1 MB).");
      var forwarded = call(
        verb.toLowerCase(),
        node + '/api/v1' + path,
        { Authorization: 'Bearer ' + key, 'X-Exalate-Instance': instanceUrl(), 'X-Exalate-User': gs.getUserName() },
        payload
      );
      if (forwarded.status === 0)
        return fail(
          502,
          'TRACKER_APP_NODE_UNREACHABLE',
          'The instance could not reach the Exalate node at ' +
            node +
            ' (' +
            forwarded.error +
            '). Check that the node runs and that the instance can reach it.'
        );
      if (forwarded.status === 204) {
        response.setStatus(204);
        return;
      }
      return send(forwarded.status, forwarded.body);
    }

    return fail(404, 'NOT_FOUND', 'The Exalate application has no resource ' + action + '.');
  },

  type: 'ExalateApi'
};
