// The pages a measuring script visits: `PAGES='name=url name=url …'`, for lighthouse.mjs and
// slow-phone.mjs (scripts/measure sets it).
export function measuredPages() {
  const pages = (process.env.PAGES ?? '').split(/\s+/).filter(Boolean).map((entry) => {
    const at = entry.indexOf('=');
    return { name: entry.slice(0, at), url: entry.slice(at + 1) };
  });
  if (pages.length === 0) {
    console.error('PAGES is empty: name=url pairs separated by spaces');
    process.exit(2);
  }
  return pages;
}
