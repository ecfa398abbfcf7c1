// Minimal typing of the parts of autocannon the benchmarks use (the package ships no types).
declare module 'autocannon' {
  interface Histogram { average: number; p50: number; p90: number; p99: number; max: number }
  interface Result { requests: Histogram & { total: number }; latency: Histogram; errors: number; non2xx: number; timeouts: number; duration: number }
  interface Request { method?: string; path?: string; headers?: Record<string, string>; setupRequest?: (request: Request, context: Record<string, unknown>) => Request }
  interface Options { url: string; connections?: number; duration?: number; pipelining?: number; headers?: Record<string, string>; requests?: Request[]; workers?: number }
  function autocannon(options: Options): Promise<Result>;
  export default autocannon;
}
