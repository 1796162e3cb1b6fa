// Compile-only copy of SAL's UrlMode (the servlet names CANONICAL only). Never packaged.
package com.atlassian.sal.api;

public enum UrlMode {
    CANONICAL, ABSOLUTE, RELATIVE, RELATIVE_CANONICAL, AUTO
}
