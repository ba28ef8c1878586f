/** One bad row of an import file, as the API reports it. */
export interface RowError {
  row: number | null;
  field: string | null;
  message: string;
}

/** An API failure with the server's own message (`detail`) ready to show. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string | null;
  readonly rowErrors: RowError[];
  /** The request field the server blames (e.g. "params.learning_rate"), when it names one. */
  readonly field: string | null;

  constructor(status: number, message: string, code: string | null = null, rowErrors: RowError[] = [], field: string | null = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.rowErrors = rowErrors;
    this.field = field;
  }
}

interface ValidationDetail {
  loc?: (string | number)[];
  msg?: string;
}

function describeDetail(detail: unknown): string | null {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    // FastAPI's request validation errors: [{loc, msg, type}]
    return (detail as ValidationDetail[])
      .map((d) => {
        const loc = (d.loc ?? []).filter((p) => p !== "body").join(".");
        return loc ? `${loc}: ${d.msg ?? "invalid"}` : (d.msg ?? "invalid");
      })
      .join("; ");
  }
  return null;
}

function toRowErrors(raw: unknown): RowError[] {
  if (!Array.isArray(raw)) return [];
  return raw.map((e: Record<string, unknown>) => ({
    row: typeof e.row === "number" ? e.row : null,
    field: typeof e.field === "string" ? e.field : null,
    message: typeof e.message === "string" ? e.message : JSON.stringify(e),
  }));
}

const STATUS_TEXT: Record<number, string> = {
  401: "You are not logged in.",
  403: "You may not do this.",
  404: "Not found.",
  409: "This conflicts with the current state.",
  413: "The file is too large.",
  422: "The input is not valid.",
  503: "The server is busy; try again in a moment.",
};

/** Build an ApiError from a response status and its parsed JSON body (if any). */
export function apiErrorFrom(status: number, body: unknown): ApiError {
  const obj = (body && typeof body === "object" ? body : {}) as Record<string, unknown>;
  const message = describeDetail(obj.detail) ?? STATUS_TEXT[status] ?? `The server answered ${status}.`;
  const code = typeof obj.code === "string" ? obj.code : null;
  const field = typeof obj.field === "string" && obj.field ? obj.field : null;
  return new ApiError(status, message, code, toRowErrors(obj.errors), field);
}

export const NETWORK_ERROR_MESSAGE = "Could not reach the server. Check your connection and try again.";

/** A message fit to show for any thrown value. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof TypeError) return NETWORK_ERROR_MESSAGE;
  if (err instanceof Error) return err.message;
  return "Something went wrong.";
}
