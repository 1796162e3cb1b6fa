import { useEffect, useRef } from 'react';
import { mountRuleEditor, type RuleEditor } from '@exalate/rule-editor';

/** The sync-rule editor of @exalate/rule-editor, in a React 18 view. */
export function CodeEditor(props: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  readOnly?: boolean;
  describedBy?: string | undefined;
}) {
  const host = useRef<HTMLDivElement>(null);
  const editor = useRef<RuleEditor | null>(null);
  const onChange = useRef(props.onChange);
  onChange.current = props.onChange;

  useEffect(() => {
    editor.current = mountRuleEditor(host.current!, {
      id: props.id,
      label: props.label,
      value: props.value,
      readOnly: !!props.readOnly,
      describedBy: props.describedBy,
      onChange: (v) => onChange.current(v),
    });
    return () => editor.current?.destroy();
  }, [props.readOnly]);

  useEffect(() => editor.current?.setValue(props.value), [props.value]);

  return <div className="exalate-editor" ref={host} />;
}
