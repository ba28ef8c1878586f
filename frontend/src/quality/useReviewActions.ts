import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, unwrapOrNull } from "../client/api";
import type { Answer } from "../client/types";
import { progressKey, reviewItemKey } from "../routes/queries";

/** Decide an item, withdraw the decision, or make it gold; every change refreshes the quality views. */
export function useReviewActions(projectId: number, itemId: number) {
  const queryClient = useQueryClient();
  const params = { params: { path: { project_id: projectId, item_id: itemId } } };
  const refresh = async () => {
    await queryClient.invalidateQueries({ queryKey: reviewItemKey(projectId, itemId) });
    void queryClient.invalidateQueries({ queryKey: ["quality"] });
    void queryClient.invalidateQueries({ queryKey: progressKey(projectId) });
  };
  const adjudicate = useMutation({
    mutationFn: (body: { answer: Answer; note: string | null }) =>
      unwrap(api.PUT("/api/projects/{project_id}/items/{item_id}/adjudication", { ...params, body })),
    onSuccess: refresh,
  });
  const withdraw = useMutation({
    mutationFn: () => unwrapOrNull(api.DELETE("/api/projects/{project_id}/items/{item_id}/adjudication", params)),
    onSuccess: refresh,
  });
  const markGold = useMutation({
    mutationFn: (answer: Answer) =>
      unwrap(api.PUT("/api/projects/{project_id}/items/{item_id}/gold", { ...params, body: { answer } })),
    onSuccess: refresh,
  });
  const unmarkGold = useMutation({
    mutationFn: () => unwrap(api.DELETE("/api/projects/{project_id}/items/{item_id}/gold", params)),
    onSuccess: refresh,
  });
  return { adjudicate, withdraw, markGold, unmarkGold };
}

export type ReviewActions = ReturnType<typeof useReviewActions>;
