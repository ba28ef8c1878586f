/** A clearly marked stand-in for an admin page whose API does not exist yet. */
export function PlaceholderPage({ title, api }: { title: string; api: string }) {
  return (
    <div className="page narrow">
      <h1>{title}</h1>
      <div className="notice" role="note">
        <strong>Not built yet.</strong> This page will list and manage {title.toLowerCase()} once the API
        (<code>{api}</code>) exists.
      </div>
    </div>
  );
}
