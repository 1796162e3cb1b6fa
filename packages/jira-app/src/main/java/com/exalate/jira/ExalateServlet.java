// The Exalate app's one servlet in Jira Data Center (/plugins/servlet/exalate/*):
//   GET  /node                  public: the paired node's URL, so a partner who enters this Jira's
//                               address in Initiate connection reaches the node
//   GET  /connections, /settings the admin page (Jira's admin decorator around the Atlaskit bundle)
//   GET  /api/settings           which node the app is paired with
//   POST /api/pair               trades a pairing code with the node for its signing key
//   POST /api/token              one short-lived token for one call of the page to the node
// Everything but /node admits Jira system administrators only; the POSTs also need Jira's XSRF
// header. The key is kept in the plugin settings and never leaves the server.
package com.exalate.jira;

import com.atlassian.sal.api.ApplicationProperties;
import com.atlassian.sal.api.UrlMode;
import com.atlassian.sal.api.pluginsettings.PluginSettings;
import com.atlassian.sal.api.pluginsettings.PluginSettingsFactory;
import com.atlassian.sal.api.user.UserKey;
import com.atlassian.sal.api.user.UserManager;
import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URL;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Instant;
import java.util.Base64;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

public class ExalateServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    static final String PLUGIN_KEY = "com.exalate.jira";
    /** The web-resource that carries the page's bundle (atlassian-plugin.xml). */
    static final String PAGE_RESOURCES = PLUGIN_KEY + ":exalate-page";
    private static final String SETTING = PLUGIN_KEY + ".";
    /** A token admits one call; the node takes none that lives longer than five minutes. */
    static final long TOKEN_TTL_SECONDS = 120;
    private static final int MAX_BODY_BYTES = 8 * 1024;
    private static final Gson GSON = new Gson();

    // Components of the running Jira: never serialized with the servlet.
    private final transient UserManager userManager;
    private final transient PluginSettingsFactory pluginSettingsFactory;
    private final transient ApplicationProperties applicationProperties;

    public ExalateServlet(UserManager userManager, PluginSettingsFactory pluginSettingsFactory, ApplicationProperties applicationProperties) {
        this.userManager = userManager;
        this.pluginSettingsFactory = pluginSettingsFactory;
        this.applicationProperties = applicationProperties;
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse res) throws IOException {
        String path = path(req);
        if (path.equals("/node")) {
            publishNode(res);
            return;
        }
        boolean page = !path.startsWith("/api/");
        UserKey user = admin(req, res, page);
        if (user == null) return;
        switch (path) {
            case "/":
            case "/connections":
                page(req, res, "connections", "Connections");
                return;
            case "/settings":
                page(req, res, "settings", "General settings");
                return;
            case "/api/settings":
                JsonObject body = new JsonObject();
                body.addProperty("nodeUrl", setting("nodeUrl"));
                json(res, 200, body);
                return;
            default:
                error(res, 404, "NOT_FOUND", "The Exalate app has no page at " + path + ". Open it from Settings → Apps → Exalate.");
        }
    }

    @Override
    protected void doPost(HttpServletRequest req, HttpServletResponse res) throws IOException {
        String path = path(req);
        UserKey user = admin(req, res, false);
        if (user == null) return;
        if (!"no-check".equalsIgnoreCase(req.getHeader("X-Atlassian-Token"))) {
            error(res, 403, "VALIDATION_FAILED", "This request lacks Jira's XSRF header (X-Atlassian-Token: no-check). Use the Exalate page in Jira.");
            return;
        }
        switch (path) {
            case "/api/token":
                token(res, user);
                return;
            case "/api/pair":
                pair(req, res, user);
                return;
            default:
                error(res, 404, "NOT_FOUND", "The Exalate app takes no request at " + path + ".");
        }
    }

    /** The signed-in system administrator, or null once the answer (sign-in, refusal) is sent. */
    private UserKey admin(HttpServletRequest req, HttpServletResponse res, boolean page) throws IOException {
        UserKey user = userManager.getRemoteUserKey(req);
        if (user == null) {
            if (page) {
                String back = req.getServletPath() + (req.getPathInfo() == null ? "" : req.getPathInfo());
                res.sendRedirect(req.getContextPath() + "/login.jsp?os_destination=" + URLEncoder.encode(back, "UTF-8"));
            } else {
                error(res, 401, "UNAUTHENTICATED", "Your Jira session has ended. Reload the page and sign in to Jira.");
            }
            return null;
        }
        if (!userManager.isSystemAdmin(user)) {
            String message = "Only Jira system administrators can manage Exalate. Ask one of them, or sign in as one.";
            if (page) refusalPage(req, res, message);
            else error(res, 403, "TRACKER_ADMIN_REQUIRED", message);
            return null;
        }
        return user;
    }

    private void publishNode(HttpServletResponse res) throws IOException {
        String nodeUrl = setting("nodeUrl");
        if (nodeUrl == null) {
            error(res, 404, "TRACKER_APP_NOT_PAIRED", "The Exalate app in this Jira is not paired with a node yet. Enter the partner's Exalate URL instead, or ask its admin to pair the app.");
            return;
        }
        JsonObject body = new JsonObject();
        body.addProperty("product", "exalate");
        body.addProperty("nodeUrl", nodeUrl);
        json(res, 200, body);
    }

    private void token(HttpServletResponse res, UserKey user) throws IOException {
        String key = setting("key");
        String audience = setting("audience");
        if (key == null || audience == null) {
            error(res, 409, "TRACKER_APP_NOT_PAIRED", "The Exalate app is not paired with a node yet. Open General settings and paste the pairing code from the node's operator.");
            return;
        }
        long now = Instant.now().getEpochSecond();
        JsonObject claims = new JsonObject();
        claims.addProperty("iss", baseUrl());
        claims.addProperty("aud", audience);
        claims.addProperty("sub", user.getStringValue());
        claims.addProperty("iat", now);
        claims.addProperty("exp", now + TOKEN_TTL_SECONDS);
        claims.addProperty("jti", UUID.randomUUID().toString());
        JsonObject body = new JsonObject();
        body.addProperty("token", sign(claims, Base64.getUrlDecoder().decode(key)));
        body.addProperty("expiresIn", TOKEN_TTL_SECONDS);
        json(res, 200, body);
    }

    private void pair(HttpServletRequest req, HttpServletResponse res, UserKey user) throws IOException {
        byte[] raw = readBody(req);
        if (raw == null) {
            error(res, 413, "REQUEST_TOO_LARGE", "A pairing request is a few hundred bytes; this one is larger than " + MAX_BODY_BYTES + ".");
            return;
        }
        String code = null;
        try {
            JsonElement parsed = JsonParser.parseString(new String(raw, StandardCharsets.UTF_8));
            JsonElement field = parsed.isJsonObject() ? parsed.getAsJsonObject().get("pairingCode") : null;
            if (field != null && field.isJsonPrimitive()) code = field.getAsString().trim();
        } catch (RuntimeException malformed) {
            code = null;
        }
        String nodeUrl = code == null ? null : nodeUrlOf(code);
        if (nodeUrl == null) {
            error(res, 400, "PAIRING_CODE_INVALID", "This is not a whole pairing code: it starts with EXPAIR1. and has four parts separated by dots. Copy it again from the node, in one piece.");
            return;
        }
        JsonObject request = new JsonObject();
        request.addProperty("pairingCode", code);
        request.addProperty("trackerBaseUrl", baseUrl());
        HttpURLConnection call;
        int status;
        String answer;
        try {
            call = (HttpURLConnection) new URL(nodeUrl + "/api/v1/tracker-app/pair").openConnection();
            call.setInstanceFollowRedirects(false);
            call.setConnectTimeout(10_000);
            call.setReadTimeout(20_000);
            call.setRequestMethod("POST");
            call.setDoOutput(true);
            call.setRequestProperty("Content-Type", "application/json");
            call.setRequestProperty("Accept", "application/json");
            try (OutputStream out = call.getOutputStream()) {
                out.write(GSON.toJson(request).getBytes(StandardCharsets.UTF_8));
            }
            status = call.getResponseCode();
            InputStream in = status < 400 ? call.getInputStream() : call.getErrorStream();
            answer = in == null ? "" : new String(readAtMost(in, 64 * 1024), StandardCharsets.UTF_8);
        } catch (IOException unreachable) {
            error(res, 502, "TRACKER_APP_NODE_UNREACHABLE", "Jira could not reach the Exalate node at " + nodeUrl + " (" + unreachable.getMessage() + "). Check that Jira's server can reach that address, then try again.");
            return;
        }
        JsonObject reply;
        try {
            JsonElement parsed = JsonParser.parseString(answer);
            reply = parsed.isJsonObject() ? parsed.getAsJsonObject() : null;
        } catch (RuntimeException notJson) {
            reply = null;
        }
        if (status != 200 || reply == null || !reply.has("key") || !reply.has("audience")) {
            // The node's own refusal (expired, used, another Jira) says best what to do.
            if (reply != null && reply.has("error") && reply.get("error").isJsonObject()) {
                json(res, status >= 400 && status < 600 ? status : 502, reply);
            } else {
                error(res, 502, "TRACKER_APP_NODE_UNREACHABLE", "The address in the pairing code (" + nodeUrl + ") answered HTTP " + status + ", not as an Exalate node. Ask the node's operator for a new pairing code.");
            }
            return;
        }
        PluginSettings settings = pluginSettingsFactory.createGlobalSettings();
        settings.put(SETTING + "nodeUrl", nodeUrl);
        settings.put(SETTING + "key", reply.get("key").getAsString());
        settings.put(SETTING + "audience", reply.get("audience").getAsString());
        settings.put(SETTING + "pairedAt", Instant.now().toString());
        settings.put(SETTING + "pairedBy", user.getStringValue());
        JsonObject body = new JsonObject();
        body.addProperty("nodeUrl", nodeUrl);
        json(res, 200, body);
    }

    /** The node URL a pairing code carries (`EXPAIR1.<base64url node URL>.<id>.<secret>`), or null. */
    static String nodeUrlOf(String code) {
        String[] parts = code.split("\\.", -1);
        if (parts.length != 4 || !parts[0].equals("EXPAIR1") || parts[1].isEmpty() || parts[1].length() > 2000) return null;
        try {
            String url = new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8);
            URI uri = new URI(url);
            if (!("https".equals(uri.getScheme()) || "http".equals(uri.getScheme())) || uri.getHost() == null) return null;
            return url.replaceAll("/+$", "");
        } catch (IllegalArgumentException | java.net.URISyntaxException damaged) {
            return null;
        }
    }

    static String sign(JsonObject claims, byte[] key) {
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        String input = b64.encodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8)) + "." + b64.encodeToString(GSON.toJson(claims).getBytes(StandardCharsets.UTF_8));
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return input + "." + b64.encodeToString(mac.doFinal(input.getBytes(StandardCharsets.US_ASCII)));
        } catch (GeneralSecurityException impossible) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", impossible);
        }
    }

    private void page(HttpServletRequest req, HttpServletResponse res, String screen, String title) throws IOException {
        String ctx = req.getContextPath();
        String web = ctx + "/download/resources/" + PAGE_RESOURCES + "/web/";
        String html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                + "<title>Exalate: " + escape(title) + "</title>"
                + "<meta name=\"decorator\" content=\"atl.admin\">"
                + "<meta name=\"admin.active.section\" content=\"admin_plugins_menu/exalate-section\">"
                + "<meta name=\"admin.active.tab\" content=\"exalate-" + screen + "\">"
                + "<link rel=\"stylesheet\" href=\"" + escape(web) + "jira-admin.css\">"
                + "</head><body>"
                + "<div id=\"exalate-root\" data-servlet=\"" + escape(ctx + "/plugins/servlet/exalate") + "\" data-screen=\"" + screen + "\"></div>"
                + "<script src=\"" + escape(web) + "jira-admin.js\"></script>"
                + "</body></html>";
        send(res, 200, "text/html", html);
    }

    private void refusalPage(HttpServletRequest req, HttpServletResponse res, String message) throws IOException {
        String html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Exalate</title>"
                + "<meta name=\"decorator\" content=\"atl.general\"></head><body>"
                + "<h1>Exalate</h1><p role=\"alert\" data-code=\"TRACKER_ADMIN_REQUIRED\">" + escape(message) + "</p></body></html>";
        send(res, 403, "text/html", html);
    }

    private String baseUrl() {
        return applicationProperties.getBaseUrl(UrlMode.CANONICAL).replaceAll("/+$", "");
    }

    private String setting(String name) {
        Object value = pluginSettingsFactory.createGlobalSettings().get(SETTING + name);
        return value instanceof String ? (String) value : null;
    }

    private static String path(HttpServletRequest req) {
        String info = req.getPathInfo();
        return info == null || info.isEmpty() ? "/" : info;
    }

    private static byte[] readBody(HttpServletRequest req) throws IOException {
        if (req.getContentLengthLong() > MAX_BODY_BYTES) return null;
        byte[] body = readAtMost(req.getInputStream(), MAX_BODY_BYTES + 1);
        return body.length > MAX_BODY_BYTES ? null : body;
    }

    private static byte[] readAtMost(InputStream in, int limit) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[4096];
        int n;
        while (out.size() < limit && (n = in.read(buffer, 0, Math.min(buffer.length, limit - out.size()))) > 0) out.write(buffer, 0, n);
        return out.toByteArray();
    }

    private static void error(HttpServletResponse res, int status, String code, String message) throws IOException {
        JsonObject error = new JsonObject();
        error.addProperty("code", code);
        error.addProperty("message", message);
        JsonObject body = new JsonObject();
        body.add("error", error);
        json(res, status, body);
    }

    private static void json(HttpServletResponse res, int status, JsonObject body) throws IOException {
        send(res, status, "application/json", GSON.toJson(body));
    }

    private static void send(HttpServletResponse res, int status, String type, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        res.setStatus(status);
        res.setContentType(type + ";charset=UTF-8");
        res.setHeader("Cache-Control", "no-store");
        res.setHeader("X-Content-Type-Options", "nosniff");
        res.setContentLength(bytes.length);
        res.getOutputStream().write(bytes);
    }

    static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;").replace("'", "&#39;");
    }
}
