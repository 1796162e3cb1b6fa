// Types of what build.mjs exports to the tests and the sandbox.
export declare const DEBIAN_JARS: Record<'servlet' | 'gson', [path: string, debianPackage: string]>;
export declare const HARNESS_JARS: string[];
/** The built jar (dist/exalate-jira-<version>.jar). */
export declare const JAR: string;
export declare const HARNESS_CLASSPATH: string;
/** Whether the simulator's servlet harness is built (it needs Debian's libjetty9-java). */
export declare function harnessBuilt(): boolean;
