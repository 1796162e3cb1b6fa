// Compile-only: the one method of Atlassian SAL's ApplicationProperties the servlet calls, so the app
// builds offline from Debian's packages. Never packaged: Jira provides the real interface at run time.
package com.atlassian.sal.api;

public interface ApplicationProperties {
    String getBaseUrl(UrlMode urlMode);
}
