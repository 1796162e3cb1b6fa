// Compile-only: SAL's UserKey as far as the servlet uses it. Never packaged.
package com.atlassian.sal.api.user;

public final class UserKey implements java.io.Serializable {
    private final String userkey;

    public UserKey(String userkey) {
        if (userkey == null) throw new NullPointerException("userkey");
        this.userkey = userkey;
    }

    public String getStringValue() {
        return userkey;
    }

    @Override
    public String toString() {
        return userkey;
    }
}
