import { getCsrfToken } from "./csrf";
import { ApiError, apiErrorFrom, NETWORK_ERROR_MESSAGE } from "./errors";
import type { ImportFormat, ImportReport } from "./types";


export interface UploadHandle {
  promise: Promise<ImportReport>;
  abort: () => void;
}

/**
 * Upload an import file with XMLHttpRequest, because fetch cannot report upload progress.
 * `onProgress` gets 0..1 while the bytes go up; the promise settles when the server has answered.
 */
export function uploadImport(
  projectId: number,
  file: File,
  format: ImportFormat | null,
  onProgress: (fraction: number) => void,
): UploadHandle {
  const xhr = new XMLHttpRequest();
  const promise = new Promise<ImportReport>((resolve, reject) => {
    xhr.open("POST", `/api/projects/${projectId}/imports`);
    xhr.responseType = "json";
    const token = getCsrfToken();
    if (token) xhr.setRequestHeader("X-CSRF-Token", token);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
    };
    xhr.upload.onload = () => onProgress(1);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(xhr.response as ImportReport);
      else reject(apiErrorFrom(xhr.status, xhr.response));
    };
    xhr.onerror = () => reject(new ApiError(0, NETWORK_ERROR_MESSAGE, "network"));
    xhr.onabort = () => reject(new ApiError(0, "Upload cancelled.", "aborted"));
    const form = new FormData();
    form.append("file", file);
    if (format) form.append("format", format);
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
}
