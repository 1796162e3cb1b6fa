// Compile-only: SAL's PluginSettings (string values only here). Never packaged.
package com.atlassian.sal.api.pluginsettings;

public interface PluginSettings {
    Object get(String key);

    Object put(String key, Object value);

    Object remove(String key);
}
