// Types of what build.mjs exports to the tests and the sandbox.
export declare const VERSION: string;
/** `now-sdk pack`'s application package (dist/exalate-servicenow-<version>.zip). */
export declare const PACKAGE: string;
/** The update set for Retrieved Update Sets (dist/exalate-servicenow-<version>-update-set.xml). */
export declare const UPDATE_SET: string;
export declare function builtRecords(dist?: string): Array<{ table: string; name: string; payload: string }>;
export declare function updateSetXml(o: { records: Array<{ table: string; name: string; payload: string }>; title: string; description: string }): string;
