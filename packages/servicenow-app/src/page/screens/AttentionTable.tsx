import type { SyncItemView } from '@exalate/contract';
import { ITEM_STATUS_LABELS, capitalize, type TrackerWords } from '@exalate/wizard-core';
import { Button, ListTable } from '../components.js';

/** The items of a queue that need attention (failed first), with their error and Retry. */
export function AttentionTable(props: { label: string; items: SyncItemView[]; words: TrackerWords; busy: boolean; onRetry: (key: string) => void }) {
  const rows = props.items.map((item) => {
    const key = item.localKey ?? item.remoteKey ?? '';
    return {
      key: `${item.localKey}/${item.remoteKey}`,
      cells: [
        {
          key: 'local',
          content:
            item.localUrl && item.localKey ? (
              <a href={item.localUrl} target="_top">
                {item.localKey}
              </a>
            ) : (
              (item.localKey ?? '(not created yet)')
            ),
        },
        { key: 'remote', content: item.remoteKey ?? '—' },
        { key: 'status', content: ITEM_STATUS_LABELS[item.status] },
        {
          key: 'error',
          content: item.error ? (
            <>
              <span className="exalate-code">{item.error.code}</span> ({item.error.direction}
              {item.error.line ? `, line ${item.error.line}` : ''}): {item.error.message}
            </>
          ) : (
            '—'
          ),
        },
        {
          key: 'actions',
          content:
            item.status === 'FAILED' ? (
              <Button aria-label={`Retry ${key}`} onClick={() => props.onRetry(key)} disabled={props.busy}>
                Retry
              </Button>
            ) : null,
        },
      ],
    };
  });
  return (
    <ListTable
      label={props.label}
      head={[capitalize(props.words.item), 'Partner item', 'Status', 'Error', 'Actions'].map((x) => ({ key: x, content: x }))}
      rows={rows}
    />
  );
}
