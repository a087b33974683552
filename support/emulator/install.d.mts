export declare const ROOT: string
export declare const VENV: string
export declare const PYTHON: string
export declare const REQUIREMENTS: string
export declare function ensureEmulatorInstalled(log?: (message: string) => void): void
