// Compile-only: SAL's PluginSettingsFactory as far as the servlet uses it. Never packaged.
package com.atlassian.sal.api.pluginsettings;

public interface PluginSettingsFactory {
    PluginSettings createGlobalSettings();
}
