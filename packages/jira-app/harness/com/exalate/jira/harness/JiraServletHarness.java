// Runs the Exalate app's servlet, loaded from the built jar, in Jetty for the Jira simulator: the
// simulator is Jira (sign-in, decorator, web-resources) and forwards /plugins/servlet/exalate/* here
// with who is signed in; this harness plays the SAL services the servlet is given. Test use only:
// it trusts the simulator's headers and listens on loopback.
//   java ... JiraServletHarness <jar> <servlet class> <url pattern> <Jira base URL>
// prints "listening <port>" once it serves, and ends when its stdin does (the simulator is gone).
package com.exalate.jira.harness;

import com.atlassian.sal.api.ApplicationProperties;
import com.atlassian.sal.api.UrlMode;
import com.atlassian.sal.api.pluginsettings.PluginSettings;
import com.atlassian.sal.api.pluginsettings.PluginSettingsFactory;
import com.atlassian.sal.api.user.UserKey;
import com.atlassian.sal.api.user.UserManager;
import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.servlet.Servlet;
import javax.servlet.ServletException;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.servlet.ServletContextHandler;
import org.eclipse.jetty.servlet.ServletHolder;

public final class JiraServletHarness {
    /** Set by the simulator from its own session; a browser's copy is dropped by the simulator. */
    static final String USER_HEADER = "X-Jira-Simulator-User";
    static final String SYSADMIN_HEADER = "X-Jira-Simulator-Sysadmin";
    private static final ThreadLocal<Boolean> SYSADMIN = ThreadLocal.withInitial(() -> Boolean.FALSE);

    private JiraServletHarness() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 4) throw new IllegalArgumentException("usage: JiraServletHarness <jar> <servlet class> <url pattern> <Jira base URL>");
        String baseUrl = args[3];
        UserManager users = new UserManager() {
            @Override
            public UserKey getRemoteUserKey(HttpServletRequest request) {
                String user = request.getHeader(USER_HEADER);
                return user == null || user.isEmpty() ? null : new UserKey(user);
            }

            @Override
            public boolean isSystemAdmin(UserKey userKey) {
                return userKey != null && SYSADMIN.get();
            }
        };
        Map<String, Object> stored = new ConcurrentHashMap<>();
        PluginSettings settings = new PluginSettings() {
            @Override
            public Object get(String key) {
                return stored.get(key);
            }

            @Override
            public Object put(String key, Object value) {
                return value == null ? stored.remove(key) : stored.put(key, value);
            }

            @Override
            public Object remove(String key) {
                return stored.remove(key);
            }
        };
        PluginSettingsFactory factory = () -> settings;
        ApplicationProperties properties = (UrlMode mode) -> baseUrl;

        // The app's classes (and the Gson inside) from its jar, as Jira's plugin system loads them.
        URLClassLoader app = new URLClassLoader(new URL[] {new File(args[0]).toURI().toURL()}, JiraServletHarness.class.getClassLoader());
        Servlet servlet = (Servlet) app.loadClass(args[1]).getConstructor(UserManager.class, PluginSettingsFactory.class, ApplicationProperties.class).newInstance(users, factory, properties);

        HttpServlet signedIn = new HttpServlet() {
            private static final long serialVersionUID = 1L;

            @Override
            protected void service(HttpServletRequest req, HttpServletResponse res) throws ServletException, IOException {
                SYSADMIN.set("true".equals(req.getHeader(SYSADMIN_HEADER)));
                try {
                    servlet.service(req, res);
                } finally {
                    SYSADMIN.remove();
                }
            }
        };
        Server server = new Server(new InetSocketAddress("127.0.0.1", 0));
        ServletContextHandler context = new ServletContextHandler();
        context.setContextPath("/");
        context.addServlet(new ServletHolder(signedIn), "/plugins/servlet" + args[2]);
        server.setHandler(context);
        server.start();
        // The simulator holds our stdin: when it ends (even killed), so does this harness.
        Thread parent = new Thread(() -> {
            try {
                while (System.in.read() != -1) {
                    // nothing is sent; only the end matters
                }
            } catch (IOException ended) {
                // the same as the end
            }
            System.exit(0);
        });
        parent.setDaemon(true);
        parent.start();
        System.out.println("listening " + ((ServerConnector) server.getConnectors()[0]).getLocalPort());
        System.out.flush();
        server.join();
    }
}
