export declare const SHORT_ACTIONS: string[]
export declare function sourcePath(name: string): string
export declare function shortPath(name: string): string
export declare function shortActionYml(name: string, source: string): string
export declare function plan(): Array<{
  name: string
  file: string
  expected: string
  current: string
}>
