import type { TrackerItem } from '@exalate/connectors';
import { syncedAfterApply, syncedFieldsOf } from '../src/sync/synced-fields.js';
import { fieldChanges, keepingChangesHere } from '../src/sync/write/fields.js';

const connector = { trackerType: 'JIRA_CLOUD', textFormat: 'plain' } as const;

function item(fields: Partial<TrackerItem> = {}): TrackerItem {
  return {
    id: '10001',
    key: 'SUP-1',
    url: 'https://jira.example/browse/SUP-1',
    project: 'SUP',
    type: 'Bug',
    summary: 'As synced',
    description: null,
    status: 'To Do',
    priority: 'Medium',
    labels: ['first'],
    assignee: null,
    reporter: null,
    created: '2026-12-01T00:00:00.000Z',
    updated: '2026-12-01T00:00:00.000Z',
    version: '1',
    comments: [],
    attachments: [],
    customFields: { customfield_1: 'a', customfield_2: 1 },
    ...fields,
  };
}

describe('keepingChangesHere', () => {
  const base = syncedFieldsOf(item());

  it("keeps the fields changed here that the partner's result leaves as they were at the last sync", () => {
    const current = item({ summary: 'Renamed here', customFields: { customfield_1: 'changed here', customfield_2: 1 } });
    // The partner changed the labels and field 2 only; its summary and field 1 are the synced ones.
    const desired = { summary: 'As synced', labels: ['from-partner'], customFields: { customfield_1: 'a', customfield_2: 2 } };
    const { kept, rest } = keepingChangesHere(fieldChanges(current, desired, connector), current, base, desired, connector);
    expect(kept.sort()).toEqual(['customfield_1', 'summary']);
    expect(rest).toEqual({ labels: ['from-partner'], customFields: { customfield_2: 2 } });
  });

  it("writes the partner's value of a field both sides changed", () => {
    const current = item({ summary: 'Renamed here' });
    const desired = { summary: 'Renamed there' };
    const { kept, rest } = keepingChangesHere(fieldChanges(current, desired, connector), current, base, desired, connector);
    expect(kept).toEqual([]);
    expect(rest).toEqual({ summary: 'Renamed there' });
  });

  it('drops a whole custom-field change when every field in it is kept', () => {
    const current = item({ customFields: { customfield_1: 'changed here', customfield_2: 1 } });
    const desired = { customFields: { customfield_1: 'a', customfield_2: 1 } };
    const { kept, rest } = keepingChangesHere(fieldChanges(current, desired, connector), current, base, desired, connector);
    expect([kept, rest]).toEqual([['customfield_1'], {}]);
  });
});

describe('syncedAfterApply', () => {
  const base = syncedFieldsOf(item());

  it('is the item as read back when it holds only the partner’s change', () => {
    const after = item({ summary: 'From the partner', labels: ['x'] });
    expect(syncedAfterApply(base, after, { summary: 'From the partner' }, false)).toEqual(syncedFieldsOf(after));
    expect(syncedAfterApply(null, after, {}, false)).toEqual(syncedFieldsOf(after));
  });

  it('takes the written fields from the item and the others from the last sync when a change here is not sent yet', () => {
    const after = item({ summary: 'Renamed here', labels: ['from-partner'], customFields: { customfield_1: 'changed here', customfield_2: 2 } });
    const synced = syncedAfterApply(base, after, { labels: ['from-partner'], customFields: { customfield_2: 2 } }, true);
    expect(synced).toEqual({ ...base, labels: ['from-partner'], customFields: { customfield_1: 'a', customfield_2: 2 } });
    // The base itself is left as it was.
    expect(base.customFields).toEqual({ customfield_1: 'a', customfield_2: 1 });
  });

  it('is unknown with a change here and no last sync to start from', () => {
    expect(syncedAfterApply(null, item({ summary: 'Renamed here' }), {}, true)).toBeNull();
  });
});
